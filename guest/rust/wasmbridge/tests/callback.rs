//! Callbacks, natively: the wrappers `#[wasmbridge::export]` writes are
//! called as a host would call them, with callback ids; a native host
//! stands in for the import `wasmbridge.callback`, reads the arguments'
//! encoded tuple and answers with an encoded result, which the SDK copies
//! into a buffer allocated as `__wb_alloc(len, 8)` would, then decodes and
//! frees (docs/abi-compound.md, "Callbacks"). Results go through scalars:
//! natively, pointers do not fit the 32-bit return area.

use std::sync::Mutex;

use wasmbridge::__rt::{decode, encode, set_native_host};

#[wasmbridge::export]
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

/// Calls `report(i)` for each step until it returns false; the steps done.
#[wasmbridge::export]
pub fn progress(steps: u32, report: impl Fn(u32) -> bool) -> u32 {
    (0..steps).take_while(|&i| report(i)).count() as u32
}

/// The total length of the words mapped through `f`.
#[wasmbridge::export]
pub fn mapped_len(words: Vec<String>, f: &dyn Fn(String) -> String) -> usize {
    words.into_iter().map(f).map(|w| w.len()).sum()
}

/// `f` folded over the points from 0.
#[wasmbridge::export]
pub fn fold_points(points: Vec<Point>, f: impl FnMut(f64, Point) -> f64) -> f64 {
    points.into_iter().fold(0.0, f)
}

/// Calls `f` once.
#[wasmbridge::export]
pub fn tick(f: impl Fn()) {
    f()
}

/// Lends slices to `f`: bytes, strings, and an optional list.
#[wasmbridge::export]
pub fn lend(f: &mut dyn FnMut(&[u8], &[&str], Option<&[u16]>, &str) -> Option<Point>) -> f64 {
    let a = f(&[1, 2, 3], &["ab", "c"], Some(&[7, 8]), "é");
    let b = f(&[], &[], None, "");
    a.map_or(0.0, |p| p.x) + b.map_or(-1.0, |p| p.y)
}

/// Methods take callbacks too (their wrappers are private to the class's
/// const block, so this one is only compiled here).
pub struct Counter {
    n: u32,
}

#[wasmbridge::export]
impl Counter {
    pub fn new(n: u32) -> Self {
        Counter { n }
    }

    /// Calls `f` with 0..n.
    pub fn each(&self, f: impl Fn(u32)) {
        (0..self.n).for_each(f)
    }
}

/// Each call the native host received: (callback id, encoded arguments).
static CALLS: Mutex<Vec<(u32, Vec<u8>)>> = Mutex::new(Vec::new());

/// The test's host: answers per callback id, as a Python or JS host would.
fn host(id: u32, args: &[u8]) -> Vec<u8> {
    CALLS.lock().unwrap().push((id, args.to_vec()));
    match id {
        10 => {
            let (i,): (u32,) = unsafe { decode(args.as_ptr()) };
            encode(&(i < 3))
        }
        20 => {
            let (word,): (String,) = unsafe { decode(args.as_ptr()) };
            encode(&format!("<{}>", word))
        }
        30 => {
            let (acc, p): (f64, Point) = unsafe { decode(args.as_ptr()) };
            encode(&(acc + p.x * p.y))
        }
        40 => Vec::new(),
        50 => {
            let (bytes, _, _, _): (Vec<u8>, Vec<String>, Option<Vec<u16>>, String) =
                unsafe { decode(args.as_ptr()) };
            encode(&if bytes.is_empty() { None } else { Some(Point { x: 1.5, y: 0.0 }) })
        }
        _ => panic!("unknown callback id {}", id),
    }
}

/// The arguments the host received for callback `id`, in order.
fn calls(id: u32) -> Vec<Vec<u8>> {
    set_native_host(host);
    let calls = CALLS.lock().unwrap();
    calls.iter().filter(|(i, _)| *i == id).map(|(_, args)| args.clone()).collect()
}

#[test]
fn a_callback_result_decides_how_far_the_export_runs() {
    set_native_host(host);
    assert_eq!(__wb_export_progress(10, 10), 3);
    let args = calls(10);
    assert_eq!(args.len(), 4); // 0, 1, 2 say true; 3 says false
    assert_eq!(args[3], 3u32.to_le_bytes());
}

#[test]
fn owned_text_crosses_both_ways_through_a_dyn_callback() {
    set_native_host(host);
    let words = encode(&vec![String::from("ab"), String::from("cde")]);
    assert_eq!(__wb_export_mapped_len(words.as_ptr(), 20), 9);
    assert_eq!(calls(20), [encode(&(String::from("ab"),)), encode(&(String::from("cde"),))]);
    assert_eq!(calls(20)[0], [8, 0, 0, 0, 2, 0, 0, 0, b'a', b'b']);
}

#[test]
fn records_cross_in_the_argument_tuple_of_a_fn_mut() {
    set_native_host(host);
    let points = encode(&vec![Point { x: 2.0, y: 3.0 }, Point { x: 1.0, y: 4.0 }]);
    assert_eq!(__wb_export_fold_points(points.as_ptr(), 30), 10.0);
    let second = &calls(30)[1];
    assert_eq!(second.len(), 24); // (f64, Point): 8 + 16 bytes, no padding
    assert_eq!(second[..8], 6.0f64.to_le_bytes());
}

#[test]
fn no_arguments_are_an_empty_buffer_and_unit_reads_nothing_back() {
    set_native_host(host);
    __wb_export_tick(40);
    assert_eq!(calls(40), [Vec::<u8>::new()]);
}

#[test]
fn lent_slices_are_lists_in_the_argument_tuple() {
    set_native_host(host);
    assert_eq!(__wb_export_lend(50), 1.5 + -1.0);
    let args = calls(50);
    // (list<u8>, list<string>, option<list<u16>>, string): 8 + 8 + 12 + 8 bytes, then the data
    assert_eq!(
        args[0][..36],
        [
            36, 0, 0, 0, 3, 0, 0, 0, // the bytes at 36
            40, 0, 0, 0, 2, 0, 0, 0, // the strings' spans at 40
            1, 0, 0, 0, 60, 0, 0, 0, 2, 0, 0, 0, // Some: the u16s at 60
            64, 0, 0, 0, 2, 0, 0, 0, // "é" at 64
        ]
    );
    assert_eq!(
        args[0][36..],
        [
            1, 2, 3, 0, 56, 0, 0, 0, 2, 0, 0, 0, 58, 0, 0, 0, 1, 0, 0, 0, b'a', b'b', b'c', 0, 7,
            0, 8, 0, 0xc3, 0xa9
        ]
    );
    let none: Vec<u8> = [
        &[36, 0, 0, 0, 0, 0, 0, 0][..], // no bytes
        &[36, 0, 0, 0, 0, 0, 0, 0],     // no strings
        &[0; 12],                       // None
        &[36, 0, 0, 0, 0, 0, 0, 0],     // ""
    ]
    .concat();
    assert_eq!(args[1], none);
}
