//! The typed layer rejects, at compile time, a handle of one class used with another.

#[test]
fn typed_handles_are_not_interchangeable() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/compile_fail/*.rs");
}
