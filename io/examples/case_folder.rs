//! Writes a small case folder (docs/formats.md, "Case folder"), loads it with every check, and
//! computes its loss and gradients with the kernels, as `spikegrad grad` does.
//!
//! `cargo run --release -p spikegrad-io --example case_folder`

use spikegrad_io::case::{self, sweep};
use spikegrad_io::npy;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("spikegrad-case-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (n, n_in, n_out, b, t) = (4, 1, 1, 2, 50);
    let config = r#"{"h": 1.0, "tau": 10.0, "tau_s": 20.0, "gate": "raised_cosine", "delta": 1.0}"#;
    std::fs::write(dir.join(case::CONFIG), config)?;
    let arrays: [(&str, Vec<usize>, f32); 9] = [
        ("W", vec![n, n], 0.1),
        ("U", vec![n, n_in], 1.0),
        ("I0", vec![n], -0.1),
        ("O", vec![n_out, n], 0.5),
        ("v0", vec![b, n], -0.5),
        ("s0", vec![b, n], 0.0),
        ("x", vec![t, b, n_in], 0.3),
        ("target", vec![t, b, n_out], 0.2),
        ("mask", vec![t, b, n_out], 1.0),
    ];
    for (name, shape, value) in arrays {
        let values = vec![value; shape.iter().product()];
        npy::write(&dir.join(format!("{name}.npy")), &shape, &values)?;
    }
    // Every file, key, shape and value is checked; an error names the file at fault.
    let loaded = case::load(&dir)?;
    let gradients = sweep::kernels_gradient::<f32>(&loaded, None)?;
    println!("loss {:.6e} ({} loss, N {})", gradients.loss, loaded.loss.kind(), loaded.dims.n);
    for (name, shape, values) in &gradients.arrays {
        let norm = values.iter().map(|g| g * g).sum::<f64>().sqrt();
        println!("{name} {shape:?}: norm {norm:.3e}");
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
