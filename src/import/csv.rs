//! A small RFC 4180 reader: comma-separated, `"` quotes with `""` inside, CRLF or LF, an optional BOM.
//! Each record carries the line it starts on, so that every error can say `file:line`.

/// One record: its fields and the (1-based) line it starts on.
#[derive(Debug, PartialEq)]
pub struct Record {
    pub line: u32,
    pub fields: Vec<String>,
}

/// What makes a text unreadable as CSV, with the line it was found on.
#[derive(Debug, PartialEq)]
pub struct SyntaxError {
    pub line: u32,
    pub key: &'static str,
}

/// Reads records one by one; blank lines are skipped.
pub struct Reader<'a> {
    rest: &'a str,
    line: u32,
    /// the fields of the last record: room made for as many in the next
    width: usize,
}

impl<'a> Reader<'a> {
    pub fn new(text: &'a str) -> Reader<'a> {
        Reader { rest: text.strip_prefix('\u{feff}').unwrap_or(text), line: 1, width: 4 }
    }
}

impl Iterator for Reader<'_> {
    type Item = Result<Record, SyntaxError>;

    fn next(&mut self) -> Option<Self::Item> {
        // skip blank lines
        loop {
            if self.rest.is_empty() {
                return None;
            }
            if let Some(r) = self.rest.strip_prefix("\r\n") {
                self.rest = r;
            } else if let Some(r) = self.rest.strip_prefix('\n') {
                self.rest = r;
            } else {
                break;
            }
            self.line += 1;
        }
        let start_line = self.line;
        let mut fields = Vec::with_capacity(self.width);
        // one buffer for the fields of the record, each copied out at its exact length (growing a new string by
        // the character for every field cost a fifth of a large import's reading in reallocations)
        let mut field = String::with_capacity(64);
        let mut chars = self.rest.char_indices().peekable();
        let mut quoted_field = false;
        loop {
            let Some((i, c)) = chars.next() else {
                fields.push(std::mem::take(&mut field));
                self.rest = "";
                break;
            };
            match c {
                '"' if field.is_empty() && !quoted_field => {
                    quoted_field = true;
                    // read up to the closing quote
                    loop {
                        match chars.next() {
                            None => {
                                self.rest = "";
                                return Some(Err(SyntaxError { line: start_line, key: "quote_open" }));
                            }
                            Some((_, '"')) => {
                                if let Some((_, '"')) = chars.peek() {
                                    chars.next();
                                    field.push('"');
                                } else {
                                    break;
                                }
                            }
                            Some((_, '\n')) => {
                                self.line += 1;
                                field.push('\n');
                            }
                            Some((_, c)) => field.push(c),
                        }
                    }
                    // after the closing quote: a separator, an end of line or the end
                    let next = chars.peek().copied();
                    match next {
                        None | Some((_, ',')) | Some((_, '\n')) => {}
                        Some((j, '\r')) if self.rest[j + 1..].starts_with('\n') => {}
                        Some((j, _)) => {
                            // skip the rest of this line so that the next record starts cleanly
                            let tail = &self.rest[j..];
                            self.rest = match tail.find('\n') {
                                Some(k) => &tail[k..],
                                None => "",
                            };
                            return Some(Err(SyntaxError { line: self.line, key: "quote_stray" }));
                        }
                    }
                }
                ',' => {
                    fields.push(field.clone());
                    field.clear();
                    quoted_field = false;
                }
                '\r' if self.rest[i + 1..].starts_with('\n') => {
                    fields.push(std::mem::take(&mut field));
                    self.rest = &self.rest[i + 2..];
                    self.line += 1;
                    break;
                }
                '\n' => {
                    fields.push(std::mem::take(&mut field));
                    self.rest = &self.rest[i + 1..];
                    self.line += 1;
                    break;
                }
                '"' => {
                    // a quote inside an unquoted field
                    let tail = &self.rest[i..];
                    self.rest = match tail.find('\n') {
                        Some(k) => &tail[k..],
                        None => "",
                    };
                    return Some(Err(SyntaxError { line: self.line, key: "quote_stray" }));
                }
                c => field.push(c),
            }
        }
        self.width = fields.len();
        Some(Ok(Record { line: start_line, fields }))
    }
}

/// Writes one field as CSV: quoted when it holds a comma, a quote, a line break or outer spaces.
pub fn write_field(out: &mut String, value: &str) {
    if value.contains([',', '"', '\n', '\r']) || value.starts_with(' ') || value.ends_with(' ') {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<Result<Record, SyntaxError>> {
        Reader::new(text).collect()
    }

    fn rec(line: u32, fields: &[&str]) -> Result<Record, SyntaxError> {
        Ok(Record { line, fields: fields.iter().map(|s| s.to_string()).collect() })
    }

    #[test]
    fn plain_quoted_and_multiline_fields_with_their_lines() {
        let text = "\u{feff}a,b,c\r\n1,\"x, \"\"y\"\"\",3\n\n\"two\nlines\",,\n4,5,6";
        assert_eq!(
            read(text),
            vec![
                rec(1, &["a", "b", "c"]),
                rec(2, &["1", "x, \"y\"", "3"]),
                rec(4, &["two\nlines", "", ""]),
                rec(6, &["4", "5", "6"]),
            ]
        );
    }

    #[test]
    fn broken_quotes_are_reported_on_their_line_and_reading_goes_on() {
        let text = "a,b\n\"x\"y,2\n3,4\nab\"c,5\n6,\"open";
        assert_eq!(
            read(text),
            vec![
                rec(1, &["a", "b"]),
                Err(SyntaxError { line: 2, key: "quote_stray" }),
                rec(3, &["3", "4"]),
                Err(SyntaxError { line: 4, key: "quote_stray" }),
                Err(SyntaxError { line: 5, key: "quote_open" }),
            ]
        );
    }

    /// Found by the import_csv fuzz target (bench/fuzz): a byte-order mark is dropped at the start of a file only.
    #[test]
    fn a_byte_order_mark_is_dropped_at_the_start_only() {
        assert_eq!(read("\u{feff}a,b\n"), vec![rec(1, &["a", "b"])]);
        assert_eq!(read("\"\u{feff}\n\",end\n"), vec![rec(1, &["\u{feff}\n", "end"])]);
        assert_eq!(read("x\n\u{feff}y,z\n"), vec![rec(1, &["x"]), rec(2, &["\u{feff}y", "z"])]);
    }

    #[test]
    fn written_fields_read_back_the_same() {
        for v in ["plain", "a,b", "say \"hi\"", "two\nlines", " pad ", "Nguyễn Thị Hòa", ""] {
            let mut line = String::new();
            write_field(&mut line, v);
            line.push_str(",z\n");
            assert_eq!(read(&line), vec![rec(1, &[v, "z"])], "{v:?}");
        }
    }
}
