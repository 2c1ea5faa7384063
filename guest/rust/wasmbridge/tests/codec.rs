//! The canonical layout, natively: every type round-trips through its
//! encoded buffer, and sizes, alignments and bytes are those of
//! docs/abi-compound.md ("Encoded values"). Records and enums come from
//! `#[wasmbridge::export]`, as in a guest crate.

use wasmbridge::__rt::{decode, encode, Canonical};

#[wasmbridge::export]
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

#[wasmbridge::export]
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shape {
    Circle,
    Square,
    Triangle,
}

#[wasmbridge::export]
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Level {
    Low = 1,
    High = 10,
    Max = -3,
    After,
}

#[wasmbridge::export]
#[derive(Clone, Debug, PartialEq)]
pub struct Feature {
    pub name: String,
    pub tags: Vec<String>,
    pub anchor: Option<Point>,
    pub span: (u32, f64),
    pub shape: Shape,
}

#[wasmbridge::export]
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub flag: bool,
    pub wide: u64,
    pub small: i8,
    pub letter: char,
    pub count: usize,
    pub level: Level,
    pub data: Vec<u8>,
    pub ratio: f32,
    pub r#type: isize,
}

/// Encodes `value`, decodes the buffer again, and checks both agree.
fn round_trip<T: Canonical + PartialEq + std::fmt::Debug>(value: T) -> Vec<u8> {
    let buf = encode(&value);
    assert!(buf.len() >= T::SIZE);
    let back: T = unsafe { decode(buf.as_ptr()) };
    assert_eq!(back, value);
    buf
}

fn layout_of<T: Canonical>() -> (usize, usize) {
    (T::SIZE, T::ALIGN)
}

#[test]
fn scalars_have_the_canonical_layout() {
    assert_eq!(layout_of::<bool>(), (1, 1));
    assert_eq!(layout_of::<u8>(), (1, 1));
    assert_eq!(layout_of::<i16>(), (2, 2));
    assert_eq!(layout_of::<u32>(), (4, 4));
    assert_eq!(layout_of::<i64>(), (8, 8));
    assert_eq!(layout_of::<f32>(), (4, 4));
    assert_eq!(layout_of::<f64>(), (8, 8));
    assert_eq!(layout_of::<usize>(), (4, 4));
    assert_eq!(layout_of::<isize>(), (4, 4));
    assert_eq!(layout_of::<char>(), (4, 4));
    assert_eq!(layout_of::<String>(), (8, 4));
    assert_eq!(layout_of::<&str>(), (8, 4));
    assert_eq!(layout_of::<Vec<u64>>(), (8, 4));
}

#[test]
fn compound_layouts_align_each_field() {
    assert_eq!(layout_of::<Option<u8>>(), (2, 1));
    assert_eq!(layout_of::<Option<u32>>(), (8, 4));
    assert_eq!(layout_of::<Option<f64>>(), (16, 8));
    assert_eq!(layout_of::<Option<String>>(), (12, 4));
    assert_eq!(layout_of::<(u8, f64)>(), (16, 8));
    assert_eq!(layout_of::<(u8, u16, u8)>(), (6, 2));
    assert_eq!(layout_of::<(i64,)>(), (8, 8));
    assert_eq!(layout_of::<Point>(), (16, 8));
    assert_eq!(layout_of::<Shape>(), (1, 1));
    assert_eq!(layout_of::<Level>(), (1, 1));
    // name 0..8, tags 8..16, anchor (tag, pad, Point) 16..40, span (u32, pad, f64) 40..56, shape 56
    assert_eq!(layout_of::<Feature>(), (64, 8));
    // flag 0, wide 8, small 16, letter 20, count 24, level 28, data 32..40, ratio 40, type 44
    assert_eq!(layout_of::<Sample>(), (48, 8));
}

#[test]
fn numbers_round_trip_little_endian() {
    assert_eq!(round_trip(0x0102_0304u32), [4, 3, 2, 1]);
    assert_eq!(round_trip(-2i16), [0xfe, 0xff]);
    assert_eq!(round_trip(1.5f32), 1.5f32.to_le_bytes());
    round_trip(f64::MIN_POSITIVE);
    round_trip(u64::MAX);
    round_trip(i64::MIN);
    round_trip(i8::MIN);
    round_trip(u16::MAX);
    assert_eq!(round_trip(usize::MAX >> 32), [0xff; 4]);
    assert_eq!(round_trip(-1isize), [0xff; 4]);
    assert_eq!(round_trip(true), [1]);
    assert_eq!(round_trip(false), [0]);
}

#[test]
fn char_is_its_scalar_value() {
    assert_eq!(round_trip('A'), [0x41, 0, 0, 0]);
    assert_eq!(round_trip('😀'), 0x1f600u32.to_le_bytes());
    round_trip(char::MAX);
}

#[test]
fn strings_put_their_bytes_after_the_fixed_part() {
    let buf = round_trip(String::from("hé"));
    assert_eq!(buf, [8, 0, 0, 0, 3, 0, 0, 0, b'h', 0xc3, 0xa9]);
    assert_eq!(round_trip(String::new()), [8, 0, 0, 0, 0, 0, 0, 0]);
    let borrowed = encode(&"text");
    let back: &str = unsafe { decode(borrowed.as_ptr()) };
    assert_eq!(back, "text");
}

#[test]
fn lists_align_their_elements_and_follow_depth_first() {
    let buf = round_trip(vec![String::from("ab"), String::from("c")]);
    assert_eq!(
        buf,
        [
            8, 0, 0, 0, 2, 0, 0, 0, // the list: offset 8, 2 elements
            24, 0, 0, 0, 2, 0, 0, 0, // "ab" at 24
            26, 0, 0, 0, 1, 0, 0, 0, // "c" at 26
            b'a', b'b', b'c',
        ]
    );
    let buf = round_trip(vec![1u64, 2]);
    assert_eq!(&buf[..8], [8, 0, 0, 0, 2, 0, 0, 0]);
    let buf = round_trip((1u8, vec![7u64]));
    assert_eq!(&buf[4..8], [16, 0, 0, 0]); // aligned to 8 after the 12-byte tuple
    round_trip(Vec::<Point>::new());
    round_trip(vec![true, false]);
    round_trip(vec!['a', 'é', '😀']);
    round_trip(vec![Some(1u32), None, Some(3)]);
    round_trip(vec![(1u32, String::from("one")), (2, String::new())]);
    round_trip(vec![vec![1u8, 2], vec![], vec![3]]);
    round_trip(vec![Shape::Square, Shape::Circle]);
}

#[test]
fn borrowed_strs_in_a_list_point_into_the_buffer() {
    let buf = encode(&vec!["x", "", "yz"]);
    let back: Vec<&str> = unsafe { decode(buf.as_ptr()) };
    assert_eq!(back, ["x", "", "yz"]);
    assert!(back[2].as_ptr() >= buf.as_ptr());
}

#[test]
fn options_tag_then_payload_at_its_alignment() {
    assert_eq!(round_trip(Some(7u32)), [1, 0, 0, 0, 7, 0, 0, 0]);
    assert_eq!(round_trip(None::<u32>), [0; 8]);
    assert_eq!(round_trip(Some(true)), [1, 1]);
    round_trip(Some(String::from("s")));
    round_trip(None::<String>);
    round_trip(Some(Point { x: 1.0, y: -1.0 }));
    round_trip(Some((1u8, 'x')));
}

#[test]
fn tuples_of_one_to_twelve_items() {
    round_trip((5i64,));
    assert_eq!(round_trip((1u8, 2u32)), [1, 0, 0, 0, 2, 0, 0, 0]);
    round_trip((String::from("ab"), 3u32));
    round_trip(((7u8, 'x'), (1.5f32, true)));
    round_trip((1u8, 2u16, 3u32, 4u64, -5i8, 6i16, 7i32, 8i64, 0.5f32, 0.25f64, 10usize, -11isize));
}

#[test]
fn records_lay_out_fields_in_order() {
    let buf = round_trip(Point { x: 1.0, y: 2.0 });
    assert_eq!(&buf[..8], 1.0f64.to_le_bytes());
    assert_eq!(&buf[8..], 2.0f64.to_le_bytes());
    let feature = Feature {
        name: String::from("fé"),
        tags: vec![String::from("a"), String::new()],
        anchor: Some(Point { x: 1.5, y: 2.5 }),
        span: (7, 0.25),
        shape: Shape::Triangle,
    };
    let buf = round_trip(feature.clone());
    assert_eq!(buf[16], 1); // anchor's tag
    assert_eq!(&buf[24..32], 1.5f64.to_le_bytes()); // anchor.x
    assert_eq!(&buf[40..44], 7u32.to_le_bytes()); // span.0
    assert_eq!(buf[56], 2); // shape: the index of Triangle
    assert_eq!(&buf[57..64], [0; 7]); // padding is zero
    round_trip(Feature { anchor: None, tags: Vec::new(), ..feature });
    let sample = Sample {
        flag: true,
        wide: u64::MAX,
        small: -128,
        letter: '😀',
        count: 4_000_000_000,
        level: Level::Max,
        data: vec![1, 2, 255],
        ratio: 0.5,
        r#type: -7,
    };
    let buf = round_trip(sample);
    assert_eq!(&buf[1..8], [0; 7]);
    assert_eq!(buf[28], 2); // Level::Max is case 2, whatever its discriminant (-3)
}

#[test]
fn enums_cross_as_their_case_index() {
    assert_eq!(round_trip(Shape::Circle), [0]);
    assert_eq!(round_trip(Shape::Triangle), [2]);
    assert_eq!(round_trip(Level::Low), [0]);
    assert_eq!(round_trip(Level::After), [3]);
    assert_eq!(Level::After as i64, -2);
}

#[test]
fn a_buffer_may_sit_at_any_address() {
    let buf = encode(&(1u8, 2.5f64, String::from("x")));
    let mut shifted = vec![0u8];
    shifted.extend_from_slice(&buf);
    let back: (u8, f64, String) = unsafe { decode(shifted.as_ptr().add(1)) };
    assert_eq!(back, (1, 2.5, String::from("x")));
}
