//! VGG16 with BatchNorm (`vgg16_bn`): thirteen 3x3 convolutions in five max-pooled blocks, then a
//! three-layer classifier on the 512 features of the 1x1 map. Dropout is absent at inference.

use super::ZooError;
use super::builder::{Conv, GraphBuilder, Value};

#[rustfmt::skip]
/// Configuration 'D': output channels, `None` for a 2x2 max pool.
const CFG_D: [Option<usize>; 18] = [
    Some(64), Some(64), None,
    Some(128), Some(128), None,
    Some(256), Some(256), Some(256), None,
    Some(512), Some(512), Some(512), None,
    Some(512), Some(512), Some(512), None,
];

pub(crate) fn vgg16_bn(b: &mut GraphBuilder, input: Value) -> Result<Value, ZooError> {
    let mut x = input;
    let mut i = 0; // index in `features`, an nn.Sequential of conv, bn, relu and pool modules
    for layer in CFG_D {
        match layer {
            None => {
                x = b.max_pool(&x, &format!("features.{i}"), 2, 2, 0)?;
                i += 1;
            }
            Some(out) => {
                let conv = format!("features.{i}");
                let bn = format!("features.{}", i + 1);
                x = b.conv_bn(&x, &conv, &bn, Conv::new(out, 3).pad(1))?;
                x = b.relu(&x, &format!("features.{}", i + 2));
                i += 3;
            }
        }
    }
    x = b.reshape(&x, &[1, -1], "")?; // output.view(output.size()[0], -1)
    x = b.linear(&x, 4096, "classifier.0")?;
    x = b.relu(&x, "classifier.1");
    x = b.linear(&x, 4096, "classifier.3")?;
    x = b.relu(&x, "classifier.4");
    b.linear(&x, 100, "classifier.6")
}
