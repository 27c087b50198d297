//! Any urlencoded body as the log-meeting form: decoding and every check never panic, and a refused form names
//! a field for each message.
#![no_main]
use chibo::db::members::RollMember;
use chibo::db::units::Unit;
use chibo::web::meetings::form::{Criterion, FormContext, RawMeeting, validate};
use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(data).into_owned().collect();
    // a field sent twice refuses the form whole
    let Ok(raw) = RawMeeting::from_pairs(pairs) else { return };
    let day = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    let cell = Unit {
        id: 1,
        code: "A".into(),
        kind: "cell".into(),
        name: "Chi bộ thôn Khuổi Trang".into(),
        valid_from: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
        valid_to: None,
        cell_type: Some("village".into()),
    };
    let roll: Vec<RollMember> = (1..=4)
        .map(|i| RollMember {
            id: i,
            code: format!("M{i}"),
            full_name: format!("Nguyễn Văn {i}"),
            official_on: if i == 4 { None } else { Some(day) },
            exempt: i == 3,
        })
        .collect();
    let criteria: Vec<Criterion> = [("preparation", 15), ("attendance", 20), ("conduct", 45), ("conclusion", 20)]
        .iter()
        .map(|(k, p)| Criterion { key: k.to_string(), label: k.to_string(), max_points: *p })
        .collect();
    let other = [(9, NaiveDate::from_ymd_opt(2026, 11, 3).unwrap())];
    let ctx = FormContext {
        today: day,
        cell: &cell,
        roll: &roll,
        criteria: &criteria,
        guest_ids: &[7, 8],
        other_regular: &other,
        task_ids: &[5],
    };
    if let Err(errors) = validate(&raw, &ctx) {
        assert!(!errors.is_empty() && errors.iter().all(|e| !e.field.is_empty() && !e.message.is_empty()));
    }
});
