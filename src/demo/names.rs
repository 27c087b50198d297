//! Static data used to generate realistic demo data for Tuyên Quang party cells.

/// A district-level unit with its commune-level units.
pub struct District {
    /// Short code used in generated identifiers.
    pub code: &'static str,
    /// Vietnamese name with its prefix.
    pub name: &'static str,
    /// Commune-level units (xã / phường / thị trấn) with their prefix.
    pub communes: &'static [&'static str],
}

/// The seven district-level units of Tuyên Quang before 1 July 2025, with their commune-level units
#[rustfmt::skip]
pub const DISTRICTS: &[District] = &[
    District {
        code: "NH",
        name: "Huyện Na Hang",
        communes: &[
            "Thị trấn Na Hang", "Xã Côn Lôn", "Xã Đà Vị", "Xã Hồng Thái", "Xã Khâu Tinh",
            "Xã Năng Khả", "Xã Sinh Long", "Xã Sơn Phú", "Xã Thanh Tương", "Xã Thượng Giáp",
            "Xã Thượng Nông", "Xã Yên Hoa",
        ],
    },
    District {
        code: "LB",
        name: "Huyện Lâm Bình",
        communes: &[
            "Xã Xuân Lập", "Thị trấn Lăng Can", "Xã Bình An", "Xã Hồng Quang", "Xã Khuôn Hà",
            "Xã Phúc Yên", "Xã Thổ Bình", "Xã Thượng Lâm",
        ],
    },
    District {
        code: "CH",
        name: "Huyện Chiêm Hóa",
        communes: &[
            "Thị trấn Vĩnh Lộc", "Xã Bình Nhân", "Xã Bình Phú", "Xã Hà Lang", "Xã Hòa An",
            "Xã Hòa Phú", "Xã Hùng Mỹ", "Xã Kiên Đài", "Xã Kim Bình", "Xã Linh Phú",
            "Xã Minh Quang", "Xã Ngọc Hội", "Xã Nhân Lý", "Xã Phú Bình", "Xã Phúc Sơn",
            "Xã Tân An", "Xã Tân Mỹ", "Xã Tân Thịnh", "Xã Tri Phú", "Xã Trung Hà",
            "Xã Trung Hòa", "Xã Vinh Quang", "Xã Xuân Quang", "Xã Yên Lập", "Xã Yên Nguyên",
        ],
    },
    District {
        code: "HY",
        name: "Huyện Hàm Yên",
        communes: &[
            "Thị trấn Tân Yên", "Xã Bạch Xa", "Xã Bằng Cốc", "Xã Bình Xa", "Xã Đức Ninh",
            "Xã Hùng Đức", "Xã Minh Dân", "Xã Minh Hương", "Xã Minh Khương", "Xã Nhân Mục",
            "Xã Phù Lưu", "Xã Tân Thành", "Xã Thái Hòa", "Xã Thái Sơn", "Xã Thành Long",
            "Xã Yên Lâm", "Xã Yên Phú", "Xã Yên Thuận",
        ],
    },
    District {
        code: "YS",
        name: "Huyện Yên Sơn",
        communes: &[
            "Thị trấn Yên Sơn", "Xã Chân Sơn", "Xã Chiêu Yên", "Xã Công Đa", "Xã Đạo Viện",
            "Xã Đội Bình", "Xã Hoàng Khai", "Xã Hùng Lợi", "Xã Kiến Thiết", "Xã Kim Quan",
            "Xã Lang Quán", "Xã Lực Hành", "Xã Mỹ Bằng", "Xã Nhữ Hán", "Xã Nhữ Khê",
            "Xã Phú Thịnh", "Xã Phúc Ninh", "Xã Quý Quân", "Xã Tân Long", "Xã Tân Tiến",
            "Xã Thái Bình", "Xã Thắng Quân", "Xã Tiến Bộ", "Xã Trung Minh", "Xã Trung Môn",
            "Xã Trung Sơn", "Xã Trung Trực", "Xã Tứ Quận", "Xã Xuân Vân",
        ],
    },
    District {
        code: "SD",
        name: "Huyện Sơn Dương",
        communes: &[
            "Thị trấn Sơn Dương", "Xã Bình Yên", "Xã Cấp Tiến", "Xã Chi Thiết", "Xã Đại Phú",
            "Xã Đông Lợi", "Xã Đông Thọ", "Xã Hào Phú", "Xã Hồng Lạc", "Xã Hợp Hòa",
            "Xã Hợp Thành", "Xã Kháng Nhật", "Xã Lâm Xuyên", "Xã Lương Thiện", "Xã Minh Thanh",
            "Xã Ninh Lai", "Xã Phú Lương", "Xã Phúc Ứng", "Xã Quyết Thắng", "Xã Sầm Dương",
            "Xã Sơn Nam", "Xã Tam Đa", "Xã Tân Thanh", "Xã Tân Trào", "Xã Thanh Phát",
            "Xã Thiện Kế", "Xã Thượng Ấm", "Xã Trung Yên", "Xã Tú Thịnh", "Xã Tuân Lộ",
            "Xã Văn Phú", "Xã Vân Sơn", "Xã Vĩnh Lợi",
        ],
    },
    District {
        code: "TP",
        name: "Thành phố Tuyên Quang",
        communes: &[
            "Phường An Tường", "Phường Đội Cấn", "Phường Hưng Thành", "Phường Minh Xuân",
            "Phường Mỹ Lâm", "Phường Nông Tiến", "Phường Phan Thiết", "Phường Tân Hà",
            "Phường Tân Quang", "Phường Ỷ La", "Xã An Khang", "Xã Kim Phú", "Xã Lưỡng Vượng",
            "Xã Thái Long", "Xã Tràng Đà",
        ],
    },
];

/// Surnames with relative weights reflecting the province's ethnic mix.
#[rustfmt::skip]
pub const FAMILY_NAMES: &[(&str, u32)] = &[
    ("Nguyễn", 220), ("Hoàng", 90), ("Ma", 60), ("Nông", 45), ("Lý", 40), ("Triệu", 40),
    ("Bàn", 35), ("Đặng", 35), ("Trần", 60), ("Lê", 45), ("Phạm", 35), ("Đỗ", 20),
    ("Hà", 30), ("Quan", 20), ("Lộc", 15), ("Chẩu", 12), ("Mông", 8), ("La", 10), ("Âu", 6),
    ("Giàng", 10), ("Sùng", 8), ("Vàng", 8), ("Vũ", 20), ("Bùi", 15), ("Phan", 10),
    ("Đinh", 10), ("Lương", 12), ("Nịnh", 5), ("Dương", 10), ("Lưu", 6), ("Ngô", 8),
    ("Đào", 8), ("Tạ", 5), ("Phùng", 6), ("Hứa", 4), ("Lầu", 4), ("Bế", 6), ("Lục", 5),
];

/// Common male middle names.
#[rustfmt::skip]
pub const MALE_MIDDLE: &[&str] = &[
    "Văn", "Đức", "Xuân", "Minh", "Quang", "Hữu", "Tiến", "Thanh", "Công", "Ngọc", "Trung",
    "Mạnh", "Đình", "Huy",
];

/// Common female middle names.
#[rustfmt::skip]
pub const FEMALE_MIDDLE: &[&str] = &[
    "Thị", "Thu", "Ngọc", "Thanh", "Minh", "Kim", "Hồng", "Thúy", "Phương", "Lan", "Bích",
    "Hải",
];

/// Common male given names.
#[rustfmt::skip]
pub const MALE_GIVEN: &[&str] = &[
    "An", "Bình", "Cường", "Chiến", "Dũng", "Đạt", "Định", "Đông", "Giang", "Hải", "Hiếu",
    "Hùng", "Huy", "Hưng", "Khánh", "Kiên", "Lâm", "Long", "Lợi", "Mạnh", "Minh", "Nam",
    "Nghĩa", "Phong", "Phúc", "Quân", "Quang", "Sơn", "Tài", "Thắng", "Thành", "Thuận",
    "Tiến", "Toàn", "Trung", "Tuấn", "Tùng", "Việt", "Vinh", "Vượng", "Khoa", "Chung",
];

/// Common female given names.
#[rustfmt::skip]
pub const FEMALE_GIVEN: &[&str] = &[
    "Anh", "Chi", "Dung", "Duyên", "Giang", "Hà", "Hạnh", "Hằng", "Hiền", "Hoa", "Hoài",
    "Hồng", "Huệ", "Hương", "Huyền", "Lan", "Liên", "Linh", "Loan", "Mai", "Nga", "Ngân",
    "Nhung", "Oanh", "Phượng", "Quyên", "Quỳnh", "Sen", "Tâm", "Thảo", "Thắm", "Thơm",
    "Thu", "Thủy", "Trang", "Tuyết", "Uyên", "Vân", "Xuân", "Yến", "Ngọc", "Lụa",
];

/// Ethnic groups with weights (per mille) approximating the province's population.
#[rustfmt::skip]
pub const ETHNICITIES: &[(&str, u32)] = &[
    ("Kinh", 455), ("Tày", 250), ("Dao", 112), ("Sán Chay", 80), ("H'Mông", 30),
    ("Nùng", 20), ("Cao Lan", 15), ("Sán Dìu", 15), ("Hoa", 8), ("Mường", 6),
    ("Pà Thẻn", 5), ("Giáy", 4),
];

/// Plausible village names for "Thôn …"/"Bản …" cells, without the prefix.
#[rustfmt::skip]
pub const VILLAGE_NAMES: &[&str] = &[
    "Khuổi Trang", "Nà Mỏ", "Bản Khiển", "Phiêng Ngàm", "Đồng Mán", "Tân Thành", "Làng Vài",
    "Nà Khà", "Nà Héc", "Bản Thác", "Nà Tông", "Khuổi Khít", "Khuổi Phầy", "Nà Thài",
    "Bản Tát", "Nà Coóc", "Nà Mèn", "Nà Chác", "Pác Hóp", "Bản Bung", "Khau Phiêng",
    "Nặm Đíp", "Khuổi Củng", "Nà Lũng", "Nà Luông", "Nà Vài", "Nà Bó", "Bản Chợ", "Bản Ba",
    "Nà Nghè", "Nà Tuộc", "Tát Ke", "Lũng Giang", "Bó Ngoặng", "Nà Ta", "Bản Nuầy",
    "Bản Pước", "Nà Lừa", "Pác Khoang", "Khuổi Xoan", "Nà Lầu", "Nà Pồng", "Nà Kiếm",
    "Bản Tấng", "Nà Đông", "Nà Reo", "Khau Quang", "Nà Cọn", "Khuổi Nhùng", "Cốc Táy",
    "Phai Tre", "Bản Mới", "Nà Làng", "Nà Bản", "Bản Giòng", "Khuôn Hẻ", "Nà Thẳm",
    "Phiêng Luông", "Nà Pục", "Nà Khuyến", "Khuổi Hóp", "Bản Cuống", "Nà Muông", "Nà Quang",
    "Bản Káng", "Nà Va", "Nà Né", "Nà Lang", "Bản Đồn", "Nà Kè", "Khuổi Bốc", "Nà Tấu",
    "Phiêng Mơ", "Khau Cau", "Bản Vả", "Nà Pài", "Bản Lằn", "Khuổi Pài", "Nà Lạn",
    "Khuổi Tích", "Nặm Chá", "Lũng Piát", "Phiêng Tạ", "Khuổi Ca", "Nà Cại", "Bản Ngõa",
    "Pắc Cụ", "Khuổi Khiếc", "Bản Biến", "Khuôn Thống", "Khuôn Ráng", "Khuôn Làn",
    "Đồng Đình", "Đồng Chùa", "Đồng Bèn", "Đồng Giàn", "Đồng Cầu", "Đồng Rôm", "Đồng Khuôn",
    "Đồng Tâm", "Làng Chạp", "Làng Bục", "Làng Đồng", "Làng Mãn", "Làng Cả", "Làng Chùa",
    "Làng Khán", "Làng Ải", "Làng Nhùng", "Làng Ngòi", "Làng Lạc", "Cầu Trôi", "Gò Chè",
    "Cây Quýt", "Cây Thông", "Cây Cọ", "Bình Ca", "Tân Bình", "Tân Lập", "Tân Tiến",
    "Tân Sơn", "Tân Trào", "Hợp Thành", "An Lạc", "An Thịnh", "Thống Nhất", "Đoàn Kết",
    "Hòa Bình", "Quyết Tiến", "Thắng Lợi", "Trung Tâm", "Tiền Phong", "Minh Tân",
    "Hồng Tiến", "Xuân Hòa", "Xuân Mai", "Phú Thọ", "Cao Đường", "Đèo Trám", "Khe Thuyền",
    "Dõn Bấn", "Trầm Ân", "Cả Chanh", "Nà Ngày", "Sơn Thủy", "Thác Cái", "Bó Củng",
    "Mỏ Chè", "Đồng Trò", "Làng Quài", "Chanh Ngoài", "Phai Khằn",
];

/// Suffixes for "Tổ dân phố …" residential-group cells.
#[rustfmt::skip]
pub const RESIDENTIAL_NAMES: &[&str] = &[
    "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16",
    "Tân Bắc", "Tân Kỳ", "Tân Lập", "Xuân Hòa", "Phan Thiết", "Bắc Hà", "Trung Việt",
    "Vĩnh Bảo", "Đồng Tâm", "Quang Trung", "Kỳ Lâm", "Hưng Kiều", "Bình Thuận", "Trung Kiên",
];

/// Agency (public administration and services) cell names, without "Chi bộ".
#[rustfmt::skip]
pub const AGENCY_CELLS: &[&str] = &[
    "Văn phòng Đảng ủy - HĐND - UBND", "Cơ quan Ủy ban Mặt trận Tổ quốc và các đoàn thể",
    "Trạm Y tế xã", "Trung tâm Y tế huyện", "Phòng Tài chính - Kế hoạch",
    "Phòng Nông nghiệp và Phát triển nông thôn", "Phòng Tài nguyên và Môi trường",
    "Phòng Văn hóa và Thông tin", "Phòng Nội vụ", "Phòng Lao động - Thương binh và Xã hội",
    "Chi cục Thuế khu vực", "Kho bạc Nhà nước huyện", "Trung tâm Văn hóa - Thể thao",
    "Ban Quản lý rừng phòng hộ", "Hạt Kiểm lâm huyện",
];

/// School cell names, without "Chi bộ".
#[rustfmt::skip]
pub const SCHOOL_CELLS: &[&str] = &[
    "Trường Mầm non", "Trường Tiểu học", "Trường Trung học cơ sở",
    "Trường Phổ thông dân tộc bán trú Tiểu học", "Trường Phổ thông dân tộc bán trú THCS",
    "Trường Tiểu học và Trung học cơ sở", "Trường Trung học phổ thông",
    "Trường Phổ thông dân tộc nội trú huyện", "Trung tâm Giáo dục nghề nghiệp - GDTX",
    "Trường Mầm non Hoa Sen", "Trường Tiểu học Kim Đồng", "Trường THCS Lê Quý Đôn",
];

/// Enterprise and cooperative cell names, without "Chi bộ".
#[rustfmt::skip]
pub const ENTERPRISE_CELLS: &[&str] = &[
    "Hợp tác xã Chè", "Hợp tác xã Cam sành Hàm Yên", "Hợp tác xã Nông lâm nghiệp",
    "Hợp tác xã Dịch vụ nông nghiệp", "Công ty Lâm nghiệp", "Công ty TNHH MTV Điện lực",
    "Điện lực huyện", "Bưu điện huyện", "Ngân hàng Chính sách xã hội huyện",
    "Ngân hàng Nông nghiệp và Phát triển nông thôn chi nhánh huyện", "Công ty Cổ phần Chè",
    "Nhà máy Thủy điện", "Công ty Cổ phần Khoáng sản", "Quỹ Tín dụng nhân dân",
];

/// Armed forces (police and military) cell names, without "Chi bộ".
#[rustfmt::skip]
pub const ARMED_FORCES_CELLS: &[&str] = &[
    "Công an xã", "Quân sự xã", "Công an thị trấn", "Quân sự thị trấn", "Công an phường",
    "Quân sự phường", "Ban Chỉ huy Quân sự huyện", "Đội Cảnh sát giao thông",
    "Đội Cảnh sát quản lý hành chính về trật tự xã hội", "Đội An ninh", "Trại tạm giam",
    "Đồn Công an", "Đại đội Bộ binh", "Trung đội Dân quân cơ động",
];

/// Monthly regular meeting topics for a village or residential cell.
#[rustfmt::skip]
pub const REGULAR_TOPICS: &[&str] = &[
    "Đánh giá kết quả thực hiện nhiệm vụ tháng, triển khai nhiệm vụ tháng tới",
    "Vận động nhân dân làm nhà vệ sinh hợp vệ sinh",
    "Thu hoạch lúa mùa và chuẩn bị vụ đông",
    "Triển khai sản xuất vụ xuân, phòng chống rét cho trâu bò",
    "Vận động nhân dân hiến đất mở rộng đường giao thông nông thôn",
    "Công tác phòng cháy, chữa cháy rừng mùa khô",
    "Phòng chống dịch tả lợn châu Phi và tiêm phòng cho gia súc, gia cầm",
    "Đôn đốc thu nộp đảng phí và các khoản đóng góp của thôn",
    "Chuẩn bị tổ chức Ngày hội Đại đoàn kết toàn dân tộc ở khu dân cư",
    "Công tác tuyển chọn và gọi công dân nhập ngũ",
    "Vận động học sinh ra lớp đầu năm học mới",
    "Phòng chống thiên tai, sạt lở đất mùa mưa bão",
    "Phát triển vùng chè, cam và trồng rừng sản xuất",
    "Xây dựng khu dân cư kiểu mẫu, đường hoa, đường điện chiếu sáng",
    "Công tác bảo đảm an ninh trật tự, phòng chống tệ nạn xã hội",
    "Vận động nhân dân tham gia bảo hiểm y tế, bảo hiểm xã hội tự nguyện",
    "Rà soát hộ nghèo, hộ cận nghèo cuối năm",
    "Tổ chức đón Tết Nguyên đán an toàn, tiết kiệm",
    "Thực hiện nếp sống văn minh trong việc cưới, việc tang và lễ hội",
    "Công tác phát triển đảng viên, tạo nguồn kết nạp đảng",
    "Kiểm điểm, đánh giá, xếp loại chất lượng đảng viên cuối năm",
    "Chăm sóc, bảo vệ rừng và khai thác gỗ rừng trồng đúng quy định",
    "Vệ sinh môi trường, thu gom rác thải khu dân cư",
    "Chuẩn bị bầu cử trưởng thôn, tổ trưởng tổ dân phố",
    "Tổ chức các hoạt động kỷ niệm Ngày Thương binh - Liệt sĩ 27/7",
    "Triển khai tiêm chủng mở rộng cho trẻ em trong thôn",
];

/// Thematic meeting topics.
#[rustfmt::skip]
pub const THEMATIC_TOPICS: &[&str] = &[
    "Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh",
    "Xây dựng nông thôn mới và nông thôn mới nâng cao",
    "Phòng chống tảo hôn và hôn nhân cận huyết thống",
    "Nâng cao chất lượng sinh hoạt chi bộ",
    "Phát huy vai trò tiền phong, gương mẫu của đảng viên",
    "Bảo vệ nền tảng tư tưởng của Đảng, đấu tranh phản bác các quan điểm sai trái",
    "Phòng chống tuyên truyền đạo lạ, hoạt động tôn giáo trái pháp luật",
    "Giảm nghèo bền vững trong đồng bào dân tộc thiểu số",
    "Bảo tồn và phát huy bản sắc văn hóa dân tộc",
    "Phát triển kinh tế hộ gia đình gắn với sản phẩm OCOP",
    "Phát huy dân chủ ở cơ sở, thực hiện Quy chế dân chủ",
    "Phòng chống ma túy và tệ nạn xã hội trong thanh thiếu niên",
    "Giữ gìn mối quan hệ mật thiết giữa Đảng với nhân dân",
    "Bảo vệ và phát triển rừng gắn với sinh kế người dân",
    "Xây dựng gia đình văn hóa, thôn văn hóa",
    "Chuyển đổi số ở cơ sở, ứng dụng công nghệ thông tin trong sản xuất",
];

/// Concrete resolution tasks assigned to a party member.
#[rustfmt::skip]
pub const TASKS: &[&str] = &[
    "Vận động 5 hộ gia đình làm nhà vệ sinh",
    "Đôn đốc thu quỹ đảng phí quý IV",
    "Tuyên truyền phòng chống cháy rừng",
    "Vận động 3 hộ hiến đất làm đường bê tông nội thôn",
    "Theo dõi, giúp đỡ quần chúng ưu tú trong diện cảm tình Đảng",
    "Kiểm tra tiến độ làm đất cấy vụ xuân của các hộ",
    "Vận động học sinh bỏ học quay trở lại lớp",
    "Tuyên truyền phòng chống tảo hôn tại các hộ có con trong độ tuổi",
    "Phối hợp chi hội phụ nữ tổng vệ sinh đường làng",
    "Vận động 10 hộ tham gia bảo hiểm y tế",
    "Rà soát danh sách công dân trong độ tuổi nhập ngũ",
    "Hướng dẫn các hộ tiêm phòng vắc xin cho đàn gia súc",
    "Đôn đốc các hộ trồng rừng sau khai thác",
    "Nắm tình hình tư tưởng nhân dân, báo cáo chi bộ",
    "Chuẩn bị hội trường nhà văn hóa cho buổi họp thôn",
    "Hòa giải mâu thuẫn giữa hai hộ về ranh giới đất",
    "Vận động các hộ đăng ký xây dựng vườn mẫu",
    "Đôn đốc thu nộp thuế sử dụng đất phi nông nghiệp",
    "Tổng hợp danh sách hộ nghèo, cận nghèo đề nghị rà soát",
    "Tuyên truyền phòng chống dịch bệnh mùa mưa",
    "Kiểm tra, nhắc nhở tổ tự quản bảo vệ rừng",
    "Vận động đồng bào không nghe theo tuyên truyền đạo lạ",
    "Hướng dẫn nhân dân cài đặt ứng dụng VNeID",
    "Phối hợp chi đoàn tổ chức trồng cây xanh đường làng",
    "Thăm hỏi, tặng quà gia đình chính sách dịp lễ, Tết",
    "Vận động các hộ thu gom, phân loại rác thải tại nguồn",
    "Đôn đốc đảng viên nộp bản kiểm điểm cuối năm",
    "Cập nhật sổ ghi biên bản sinh hoạt chi bộ",
    "Kiểm tra hệ thống kênh mương trước vụ gieo cấy",
    "Tuyên truyền an toàn giao thông, không uống rượu khi lái xe",
    "Vận động các hộ di dời khỏi vùng có nguy cơ sạt lở",
];

/// Training courses for cell secretaries.
#[rustfmt::skip]
pub const COURSES: &[&str] = &[
    "Bồi dưỡng nghiệp vụ công tác Đảng cho bí thư chi bộ",
    "Lý luận chính trị sơ cấp",
    "Trung cấp lý luận chính trị - hành chính",
    "Bồi dưỡng lý luận chính trị cho đảng viên mới",
    "Bồi dưỡng nghiệp vụ công tác kiểm tra, giám sát",
    "Bồi dưỡng kỹ năng nâng cao chất lượng sinh hoạt chi bộ",
    "Bồi dưỡng nghiệp vụ công tác dân vận ở cơ sở",
];
