//! Any text as any bundle file: the reader and the value checks never panic, lines never go backwards, and a
//! field written by the exporter's rules reads back the same.
#![no_main]
use chibo::import::{csv, spec};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut last = 0;
    for record in csv::Reader::new(text) {
        let line = match &record {
            Ok(r) => r.line,
            Err(e) => e.line,
        };
        assert!(line >= last, "lines went backwards");
        last = line;
    }
    for file in spec::FILES {
        let mut problems = Vec::new();
        let _ = spec::read_file(file, text, &mut problems);
        assert!(problems.iter().all(|p| p.file == file.name));
    }
    let mut line = String::new();
    csv::write_field(&mut line, text);
    line.push_str(",end\n");
    let records: Vec<_> = csv::Reader::new(&line).collect();
    // the reader drops a byte-order mark at the very start of a file, as it should, and nowhere else
    let expected = if line.starts_with('\u{feff}') { &text['\u{feff}'.len_utf8()..] } else { text };
    match records.first() {
        Some(Ok(r)) => assert_eq!(r.fields, vec![expected.to_string(), "end".to_string()]),
        other => panic!("a written field did not read back: {other:?}"),
    }
});
