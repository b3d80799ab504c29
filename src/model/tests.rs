//! Tests of `model`.

use super::*;

#[test]
fn derived_names_map_to_the_longest_source_before_a_dot_or_a_dash() {
    let names = ["/Div", "conv", "conv-1", "12-Conv"];
    let by_name: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let of = |n| crate::cost::source_for(n, &by_name);
    assert_eq!(of("/Div"), Some(0));
    assert_eq!(of("/Div-recip"), Some(0));
    assert_eq!(of("/Div-recip.1"), Some(0));
    assert_eq!(of("conv.pack_a"), Some(1));
    assert_eq!(of("conv-1.pack_a"), Some(2));
    assert_eq!(of("conv-2.pack_a"), Some(1));
    assert_eq!(of("12-Conv.lazyIm2col"), Some(3));
    assert_eq!(of("/Divide"), None);
    assert_eq!(of("other-recip"), None);
}
