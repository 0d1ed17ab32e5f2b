//! AdamW over flat buffers, for the GPU: every trainable variable of a weight-decay group is made
//! a view into one contiguous buffer, and so is its gradient, so that a step (gradient clipping
//! and AdamW) is a dozen kernels for the whole model instead of several per variable (what
//! PyTorch's `foreach` optimizers achieve). On a GPU a small model's step is bound by kernel
//! launches, so this is where the time goes; on the CPU the tagger keeps tch's optimizer, whose
//! results the committed figures were made with.
//!
//! The update is PyTorch's AdamW (decoupled weight decay, bias-corrected moments), the same
//! formula as `tch::nn::AdamW`; results agree with it to float rounding.

use tch::nn::VarStore;
use tch::Tensor;

/// One weight-decay group.
struct Group {
    params: Vec<Tensor>,
    /// The parameters' storage (each parameter is a view into it).
    flat: Tensor,
    /// The gradients' storage (each gradient becomes a view into it after the first step).
    grad: Tensor,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
    weight_decay: f64,
    grads_adopted: bool,
}

/// AdamW with gradient-norm clipping over flat buffers (see the module comment).
pub(crate) struct FlatAdamW {
    groups: Vec<Group>,
    step: i32,
    beta1: f64,
    beta2: f64,
    eps: f64,
}

impl FlatAdamW {
    /// Flattens the trainable variables of `vs`, group by group; `weight_decay(group)` gives
    /// each group's decay. The variables keep their values and names.
    pub(crate) fn new(vs: &VarStore, weight_decay: impl Fn(usize) -> f64) -> FlatAdamW {
        let vars = vs.variables_.lock().expect("the variable store's lock");
        let mut by_group: std::collections::BTreeMap<usize, Vec<Tensor>> = Default::default();
        for v in &vars.trainable_variables {
            by_group.entry(v.group).or_default().push(v.tensor.shallow_clone());
        }
        drop(vars);
        let groups = by_group
            .into_iter()
            .map(|(g, mut params)| {
                let flat =
                    tch::no_grad(|| Tensor::cat(&params.iter().map(|p| p.detach().view([-1])).collect::<Vec<_>>(), 0));
                let mut at = 0;
                for p in &mut params {
                    let n = p.numel() as i64;
                    let view = flat.narrow(0, at, n).view(p.size().as_slice());
                    p.set_data(&view);
                    at += n;
                }
                Group {
                    grad: flat.zeros_like(),
                    exp_avg: flat.zeros_like(),
                    exp_avg_sq: flat.zeros_like(),
                    flat,
                    params,
                    weight_decay: weight_decay(g),
                    grads_adopted: false,
                }
            })
            .collect();
        FlatAdamW { groups, step: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8 }
    }

    /// Makes each parameter's gradient a view into its group's flat gradient (after the first
    /// backward pass, when libtorch has made them); later passes accumulate into it in place.
    fn adopt_grads(&mut self) {
        for g in self.groups.iter_mut().filter(|g| !g.grads_adopted) {
            tch::no_grad(|| {
                let mut at = 0;
                for p in &g.params {
                    let n = p.numel() as i64;
                    let mut grad = p.grad();
                    let view = g.grad.narrow(0, at, n).view(p.size().as_slice());
                    if grad.defined() {
                        let mut v = view.shallow_clone();
                        v.copy_(&grad);
                        grad.set_data(&view);
                    }
                    at += n;
                }
            });
            g.grads_adopted = true;
        }
    }

    /// Clips the gradients' global norm to `max_norm` (on the device, no read-back) and takes
    /// one AdamW step at learning rate `lr`; then zeroes the gradients.
    pub(crate) fn step(&mut self, lr: f64, max_norm: f64) {
        self.adopt_grads();
        self.step += 1;
        let t = self.step;
        let (b1, b2, eps) = (self.beta1, self.beta2, self.eps);
        tch::no_grad(|| {
            let norms: Vec<Tensor> = self.groups.iter().map(|g| g.grad.norm()).collect();
            let total = Tensor::stack(&norms, 0).norm();
            let scale = ((total + 1e-6).reciprocal() * max_norm).clamp_max(1.0);
            let bias1 = 1.0 - b1.powi(t);
            let bias2_sqrt = (1.0 - b2.powi(t)).sqrt();
            for g in &mut self.groups {
                let grad = &g.grad * &scale;
                if g.weight_decay != 0.0 {
                    let _ = g.flat.g_mul_scalar_(1.0 - lr * g.weight_decay);
                }
                let _ = g.exp_avg.lerp_(&grad, 1.0 - b1);
                let _ = g.exp_avg_sq.g_mul_scalar_(b2);
                let _ = g.exp_avg_sq.addcmul_(&grad, &(&grad * (1.0 - b2)));
                let denom = g.exp_avg_sq.sqrt() / bias2_sqrt + eps;
                let _ = g.flat.addcdiv_(&(&g.exp_avg * (-lr / bias1)), &denom);
                let _ = g.grad.zero_();
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::nn::{self, Module, OptimizerConfig};
    use tch::Device;
    use tch::Kind;

    /// The summed squared values of the parameters.
    fn checksum(vs: &VarStore) -> f64 {
        vs.trainable_variables().iter().map(|v| v.square().sum(Kind::Double).double_value(&[])).sum()
    }

    fn model(vs: &VarStore) -> impl Module {
        let root = vs.root();
        let a = nn::linear(&root / "a", 6, 5, Default::default());
        let b = nn::linear(root.set_group(1) / "b", 5, 3, Default::default());
        nn::seq().add(a).add_fn(|x| x.tanh()).add(b)
    }

    /// The flat optimizer takes the same steps as tch's AdamW (per-variable, in C++).
    #[test]
    fn flat_adamw_matches_tch_adamw() {
        tch::manual_seed(3);
        let x = Tensor::randn([8, 6], (Kind::Float, Device::Cpu));
        let y = Tensor::randn([8, 3], (Kind::Float, Device::Cpu));
        let run = |flat: bool| {
            tch::manual_seed(7);
            let vs = VarStore::new(Device::Cpu);
            let m = model(&vs);
            let mut reference = nn::AdamW::default().build(&vs, 1e-2).unwrap();
            reference.set_weight_decay_group(0, 0.01);
            reference.set_weight_decay_group(1, 0.0);
            let mut mine = flat.then(|| FlatAdamW::new(&vs, |g| if g == 0 { 0.01 } else { 0.0 }));
            for step in 0..6 {
                // Large enough that clipping to 0.5 matters on some steps.
                let loss = (m.forward(&x) - &y).square().mean(Kind::Float) * (1.0 + step as f64);
                match mine.as_mut() {
                    Some(opt) => {
                        loss.backward();
                        opt.step(1e-2, 0.5);
                    }
                    None => {
                        reference.set_lr(1e-2);
                        reference.backward_step_clip_norm(&loss, 0.5);
                    }
                }
            }
            let names: Vec<String> = {
                let mut n: Vec<String> = vs.variables().into_keys().collect();
                n.sort();
                n
            };
            let values: Vec<Vec<f32>> =
                names.iter().map(|n| Vec::<f32>::try_from(vs.variables()[n].view([-1])).unwrap()).collect();
            (values, checksum(&vs))
        };
        let (a, ca) = run(false);
        let (b, cb) = run(true);
        assert_eq!(a.len(), b.len());
        for (u, v) in a.iter().zip(&b) {
            for (p, q) in u.iter().zip(v) {
                assert!((p - q).abs() < 1e-5, "{p} vs {q}");
            }
        }
        assert!((ca - cb).abs() < 1e-4, "{ca} vs {cb}");
    }

    /// Parameters stay views into the flat buffer: saving and loading by name still work.
    #[test]
    fn flattened_variables_save_and_load() {
        let vs = VarStore::new(Device::Cpu);
        let m = model(&vs);
        let mut opt = FlatAdamW::new(&vs, |_| 0.0);
        let x = Tensor::randn([4, 6], (Kind::Float, Device::Cpu));
        m.forward(&x).sum(Kind::Float).backward();
        opt.step(1e-2, 1.0);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("w.safetensors");
        vs.save(&file).unwrap();
        let mut other = VarStore::new(Device::Cpu);
        let m2 = model(&other);
        other.load(&file).unwrap();
        assert!((checksum(&vs) - checksum(&other)).abs() < 1e-9);
        let (before, after) = (m.forward(&x), m2.forward(&x));
        assert!(before.allclose(&after, 1e-6, 1e-6, false));
    }
}
