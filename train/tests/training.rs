//! The training pieces: Adam, the tasks' definitions, determinism, and that a few steps
//! of training reduce the loss.

use spikegrad::{Config, Gate};
use spikegrad_train::adam::{Adam, Clip};
use spikegrad_train::latch::LatchStart;
use spikegrad_train::model::{rest_phase, Model, Objective, Trials};
use spikegrad_train::observer::{Control, Observer, Quiet};
use spikegrad_train::phase_step::PhaseStep;
use spikegrad_train::predict::{self, Predict};
use spikegrad_train::rng::Rng;
use spikegrad_train::shards::{Combined, Shards};
use spikegrad_train::task;
use spikegrad_train::task::pace::Pace;
use spikegrad_train::xor::{self, Xor, XorTrial, PATTERNS};
use spikegrad_train::xor_run::{train_xor, XorOptions, XorStart};
use spikegrad_train::{Settings, StepReport, TimeConstantRange, TrainError, Trainer};

#[test]
fn adam_minimises_a_quadratic_and_clips() {
    // f(p) = sum (p - 3)^2 / 2: gradient p - 3.
    let mut p = vec![0.0f32; 4];
    let mut adam = Adam::new(0.1, Clip::GlobalNorm(1.0), &[4]);
    for _ in 0..500 {
        let g: Vec<f64> = p.iter().map(|&x| x as f64 - 3.0).collect();
        let norm = adam.update(&mut [&mut p], &[Some(&g)]);
        assert!(norm.is_finite());
    }
    assert!(p.iter().all(|x| (x - 3.0).abs() < 1e-2), "{p:?}");
    // A frozen parameter does not move.
    let mut q = vec![1.0f32; 2];
    let mut adam = Adam::new(0.1, Clip::None, &[2]);
    adam.update(&mut [&mut q], &[None]);
    assert_eq!(q, vec![1.0, 1.0]);
}

#[test]
fn cosine_decay_runs_from_base_to_floor() {
    use spikegrad_train::adam::cosine_decay;
    assert_eq!(cosine_decay(2.0, 0.05, 0.0), 2.0);
    assert!((cosine_decay(2.0, 0.05, 1.0) - 0.1).abs() < 1e-15);
    assert!((cosine_decay(2.0, 0.05, 0.5) - 1.05).abs() < 1e-15);
    assert_eq!(cosine_decay(2.0, 0.05, 7.0), cosine_decay(2.0, 0.05, 1.0));
}

#[test]
fn adam_first_step_has_size_learning_rate_whatever_the_scale() {
    for scale in [1e-3, 1.0, 1e6, 1e150] {
        let mut p = vec![0.0f32];
        Adam::new(0.01, Clip::None, &[1]).update(&mut [&mut p], &[Some(&[scale])]);
        assert!((p[0] + 0.01).abs() < 1e-6, "{scale}: {}", p[0]);
    }
}

fn xor_trials(b: usize) -> (Xor, Trials, Vec<XorTrial>) {
    let task = Xor { h: 2.0 };
    let model = Model::quiet_start(task.config(), 8, 2, 1, xor::INIT, &mut Rng::new(3));
    let mut trials = Trials::new(&model, b, task.steps());
    let drawn = task.sample(&mut Rng::new(4), &mut trials);
    (task, trials, drawn)
}

#[test]
fn xor_trials_follow_the_definition() {
    let (task, trials, drawn) = xor_trials(50);
    assert_eq!(task.steps(), 500);
    for (k, trial) in drawn.iter().enumerate() {
        assert!((200.0..=600.0).contains(&trial.t2));
        let x = |t: usize, c: usize| trials.x[(t * 50 + k) * 2 + c];
        assert_eq!(x(25, 0), trial.a1 as f32, "50 ms: first pulse");
        assert_eq!(x(49, 0), trial.a1 as f32, "98 ms: first pulse");
        assert_eq!(x(50, 0), 0.0, "100 ms: after it");
        let t2 = (trial.t2 / 2.0).ceil() as usize;
        assert_eq!(x(t2, 0), trial.a2 as f32, "second pulse starts at t2");
        assert_eq!(x(400, 1), 1.0, "800 ms: go cue");
        assert_eq!(x(425, 1), 0.0, "850 ms: cue over");
        // Target index t is time (t + 1) h: the window [850, 1000) is t = 424..499.
        let want = if trial.a1 != trial.a2 { 1.0 } else { -1.0 };
        assert_eq!((trials.target[424 * 50 + k], trials.mask[424 * 50 + k]), (want, 1.0));
        assert_eq!((trials.target[423 * 50 + k], trials.mask[423 * 50 + k]), (0.0, 0.0));
    }
    let mask_steps = trials.mask.iter().filter(|&&m| m == 1.0).count() / 50;
    assert_eq!(mask_steps, 75, "150 ms of 2 ms steps");
    for p in PATTERNS {
        assert!(drawn.iter().any(|d| (d.a1, d.a2) == p), "every pattern drawn");
    }
}

#[test]
fn the_xor_as_a_task_holds_the_trials_its_sampler_draws() {
    let (task, trials, _) = xor_trials(7);
    let held = task.task(7, PhaseStep::Midpoint, &mut Rng::new(4));
    held.check().unwrap();
    assert_eq!((held.t, held.k, held.n_in, held.n_out), (500, 7, 2, 1));
    assert_eq!(
        (held.objective, held.step, held.config),
        (Objective::Mse, PhaseStep::Midpoint, task.config())
    );
    assert_eq!((&held.x, &held.target, &held.mask), (&trials.x, &trials.target, &trials.mask));
    // Gathered back as a batch for a model, they are the sampler's trials.
    let model = Model::quiet_start(task.config(), 8, 2, 1, xor::INIT, &mut Rng::new(3));
    let mut gathered = Trials::default();
    held.gather(&(0..7).collect::<Vec<_>>(), &model, &mut gathered);
    assert_eq!(
        (gathered.x, gathered.target, gathered.mask),
        (trials.x, trials.target, trials.mask)
    );
}

#[test]
fn the_random_xor_start_is_train_tasks_fresh_start_and_schedule() {
    let defaults = task::TaskOptions::default();
    let mut options = XorOptions::new(XorStart::Random);
    assert_eq!((options.batch, options.learning_rate), (defaults.batch, defaults.learning_rate));
    assert_eq!((options.max_iterations, options.restart_after), (xor::RANDOM_ITERATIONS, 0));
    (options.neurons, options.batch, options.max_iterations, options.eval_every) = (8, 4, 3, 3);
    let run = train_xor(&options, &mut Quiet).unwrap();
    // The start `train task` draws from the first training trials (the seed's stream).
    let xor = Xor { h: options.h };
    let first = xor.task(64, options.step, &mut Rng::new(options.seed));
    let mut start = task::TaskOptions::default();
    start.seed = options.seed;
    let all: Vec<usize> = (0..64).collect();
    let model = task::initial_model(&first, &all, 8, options.step, &start).unwrap();
    let settings = task::adam_settings(task::step_scales(&model), &start, options.learning_rate);
    assert_eq!(
        (run.settings.step_scales, run.settings.clip),
        (settings.step_scales, settings.clip)
    );
    assert_eq!(run.iterations, 3);
    assert!(run.losses.iter().all(|(_, l)| l.is_finite()));
}

#[test]
fn xor_score_counts_the_sign_of_the_window_mean() {
    let (task, trials, drawn) = xor_trials(20);
    // A readout equal to the target scores 100%; its negation 0%.
    let perfect: Vec<f32> = trials.target.clone();
    assert_eq!(task.score(&perfect, &drawn).overall, 1.0);
    let wrong: Vec<f32> = trials.target.iter().map(|x| -x).collect();
    assert_eq!(task.score(&wrong, &drawn).overall, 0.0);
    assert_eq!(task.score(&perfect, &drawn).median_signed, 1.0);
    assert_eq!(task.score(&wrong, &drawn).median_signed, -1.0);
    // Half the target: every trial right, its signed readout 0.5; trial 0 at 0.1 (still
    // right) moves the mean but not the median of 20.
    let mut half: Vec<f32> = trials.target.iter().map(|x| 0.5 * x).collect();
    for t in 0..trials.t {
        half[t * 20] *= 0.2;
    }
    let score = task.score(&half, &drawn);
    assert_eq!(score.overall, 1.0);
    assert!((score.median_signed - 0.5).abs() < 1e-6, "{}", score.median_signed);
    assert!((score.margin - (19.0 * 0.5 + 0.1) / 20.0).abs() < 1e-6, "{}", score.margin);
}

#[test]
fn a_latch_cluster_holds_a_pulse_far_beyond_its_time_constants() {
    // The XOR's latch start at N 64 (tau 20 ms, tau_s 100 ms): a first pulse of +1 and no
    // second pulse or cue; the positive clusters must still fire 600-700 ms after the
    // pulse (6-7 tau_s), the negative ones never. Trial 1 has no pulse at all: silence.
    let task = Xor { h: 2.0 };
    let start = LatchStart::XOR;
    let model = start.model(task.config(), 64, 1, &mut Rng::new(1)).unwrap();
    assert_eq!(start.cluster_size(64), 12);
    let mut trials = Trials::new(&model, 2, task.steps());
    for t in 25..50 {
        trials.x[t * 4] = 1.0; // trial 0, channel 0, [50, 100) ms
    }
    let mut trainer = Trainer::new(model, Settings::new(1e-3)).unwrap();
    let rec = trainer.record(&trials).unwrap();
    let spikes = |trial: usize, cluster: Option<usize>, steps: std::ops::Range<usize>| {
        steps
            .flat_map(|t| (0..64).map(move |i| (t, i)))
            .filter(|&(t, i)| start.cluster_of(64, i) == cluster && rec.spiked(t, trial, i))
            .count()
    };
    let late = 350..400; // [700, 800) ms
    for cluster in [0, 1] {
        assert!(spikes(0, Some(cluster), late.clone()) >= 12, "positive cluster {cluster} held");
    }
    for cluster in [2, 3] {
        assert_eq!(spikes(0, Some(cluster), 0..500), 0, "negative cluster {cluster} stays off");
    }
    assert_eq!((0..5).map(|c| spikes(1, (c < 4).then_some(c), 0..500)).sum::<usize>(), 0);
    // The layout is refused, with the reason, where it does not fit.
    let error = start.model(task.config(), 8, 1, &mut Rng::new(1)).unwrap_err();
    assert!(error.to_string().contains("at least 16 neurons"), "{error}");
}

#[test]
fn predict_signal_has_unit_variance_and_target_equals_input() {
    let task = Predict { h: 1.0, duration_ms: 500.0, time_scale_ms: 50.0 };
    let (config, scales) = (task.config(20.0, 10.0), predict::INIT);
    let model = Model::quiet_start(config, 4, 2, 2, scales, &mut Rng::new(1));
    let mut trials = Trials::new(&model, 400, task.steps());
    task.sample(&mut Rng::new(2), &mut trials);
    assert_eq!(trials.x, trials.target);
    let n = trials.x.len() as f64;
    let mean = trials.x.iter().map(|&x| x as f64).sum::<f64>() / n;
    let var = trials.x.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
    assert!(mean.abs() < 0.05 && (var - 1.0).abs() < 0.05, "mean {mean}, variance {var}");
    // Smooth: neighbouring samples nearly equal (lag-1 correlation of a twice-filtered
    // signal with a 50-step time constant is above 0.999).
    let lag: f64 = (0..trials.t - 1)
        .map(|t| (trials.x[t * 800] as f64) * (trials.x[(t + 1) * 800] as f64))
        .sum::<f64>();
    let zero: f64 = (0..trials.t - 1).map(|t| (trials.x[t * 800] as f64).powi(2)).sum::<f64>();
    assert!(lag / zero > 0.99, "{}", lag / zero);
    // Rest phases are fixed points.
    let v = rest_phase(-0.5);
    assert!(
        ((1.0 - (std::f64::consts::PI * v).cos())
            + (1.0 + (std::f64::consts::PI * v).cos()) * -0.5)
            .abs()
            < 1e-12
    );
}

#[test]
fn predict_nmse_from_a_step_leaves_out_the_steps_before_it() {
    let task = Predict { h: 1.0, duration_ms: 100.0, time_scale_ms: 50.0 };
    let model =
        Model::quiet_start(task.config(20.0, 10.0), 4, 2, 2, predict::INIT, &mut Rng::new(1));
    let mut trials = Trials::new(&model, 30, task.steps());
    task.sample(&mut Rng::new(2), &mut trials);
    // Exact after step 20, zero before it.
    let mut readout = trials.target.clone();
    readout[..20 * 30 * 2].fill(0.0);
    assert!(task.nmse(&readout, &trials) > 0.05);
    assert_eq!(task.nmse_from(&readout, &trials, 20), 0.0);
    assert!(task.nmse_from(&readout, &trials, 19) > 0.0);
    // A zero readout scores about 1 (mean square over variance, the mean near 0).
    let zero = vec![0.0; readout.len()];
    assert!((task.nmse(&zero, &trials) - 1.0).abs() < 0.3, "{}", task.nmse(&zero, &trials));
}

fn short_run(seed: u64, iterations: usize) -> (Vec<f64>, Model) {
    let task = Predict { h: 1.0, duration_ms: 200.0, time_scale_ms: 50.0 };
    let (config, scales) = (task.config(20.0, 10.0), predict::INIT);
    let model = Model::quiet_start(config, 16, 2, 2, scales, &mut Rng::new(seed));
    let settings = Settings { clip: Clip::PerParameter(1.0), ..Settings::new(2e-2) };
    let mut trainer = Trainer::new(model, settings).unwrap();
    let mut trials = Trials::new(&trainer.model, 8, task.steps());
    task.sample(&mut Rng::new(seed + 1), &mut trials);
    // The same batch again and again: the loss on it must fall.
    let losses = (0..iterations).map(|_| trainer.train_step(&trials).unwrap().loss).collect();
    (losses, trainer.model)
}

#[test]
fn training_reduces_the_loss_on_a_fixed_batch() {
    let (losses, _) = short_run(5, 40);
    assert!(losses[39] < 0.5 * losses[0], "{} -> {}", losses[0], losses[39]);
}

#[test]
fn the_same_seed_gives_the_same_bits() {
    let (a, model_a) = short_run(7, 5);
    let (b, model_b) = short_run(7, 5);
    assert_eq!(
        a.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
        b.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
    );
    assert_eq!(model_a, model_b);
}

#[test]
fn shards_refuse_trials_that_do_not_fit_with_the_kernels_error() {
    use spikegrad::Error;
    let task = Predict { h: 1.0, duration_ms: 20.0, time_scale_ms: 50.0 };
    let model =
        Model::quiet_start(task.config(20.0, 10.0), 4, 2, 2, predict::INIT, &mut Rng::new(1));
    let mut shards = Shards::<f64>::new(&model.config, model.step, 2).unwrap();
    let empty = Trials::new(&model, 0, task.steps());
    assert!(matches!(shards.gradient(&model, &empty), Err(Error::EmptyDimension { name: "B" })));
    let mut short = Trials::new(&model, 3, task.steps());
    short.x.pop();
    assert!(matches!(
        shards.gradient(&model, &short),
        Err(Error::ShapeMismatch { array: "x", .. })
    ));
    let mut nan = Trials::new(&model, 3, task.steps());
    nan.target[5] = f32::NAN;
    assert!(matches!(
        shards.gradient(&model, &nan),
        Err(Error::NonFiniteInput { array: "target", index: 5, .. })
    ));
}

/// Largest |a - b| over the largest |b|, per parameter array.
fn relative_differences(a: &Combined, b: &Combined) -> [(&'static str, f64); 4] {
    let rel = |x: &[f64], y: &[f64]| {
        let scale = y.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(scale > 0.0);
        x.iter().zip(y).fold(0.0f64, |m, (p, q)| m.max((p - q).abs())) / scale
    };
    [
        ("W", rel(&a.w, &b.w)),
        ("U", rel(&a.u, &b.u)),
        ("I0", rel(&a.i0, &b.i0)),
        ("O", rel(&a.o, &b.o)),
    ]
}

#[test]
fn shards_combine_to_the_whole_batch_gradient() {
    use spikegrad::Workspace;
    let task = Predict { h: 1.0, duration_ms: 200.0, time_scale_ms: 50.0 };
    let model =
        Model::quiet_start(task.config(20.0, 10.0), 16, 2, 2, predict::INIT, &mut Rng::new(9));
    // Uneven splits (5 = 2 + 3; 1 + 1 + 1 + 1 + 1) and more shards than trials.
    for (b, count) in [(5, 2), (5, 5), (2, 3), (1, 2)] {
        let mut trials = Trials::new(&model, b, task.steps());
        task.sample(&mut Rng::new(10), &mut trials);
        let whole = |precision_f64: bool| {
            if precision_f64 {
                Shards::<f64>::new(&model.config, model.step, 1)
                    .unwrap()
                    .gradient(&model, &trials)
                    .unwrap()
                    .clone()
            } else {
                Shards::<f32>::new(&model.config, model.step, 1)
                    .unwrap()
                    .gradient(&model, &trials)
                    .unwrap()
                    .clone()
            }
        };
        let (whole32, whole64) = (whole(false), whole(true));
        let split32 = Shards::<f32>::new(&model.config, model.step, count)
            .unwrap()
            .gradient(&model, &trials)
            .unwrap()
            .clone();
        let split64 = Shards::<f64>::new(&model.config, model.step, count)
            .unwrap()
            .gradient(&model, &trials)
            .unwrap()
            .clone();
        for (name, rel) in relative_differences(&split64, &whole64) {
            assert!(rel < 1e-12, "f64, B {b}, {count} shards, {name}: {rel:e}");
        }
        for (name, rel) in relative_differences(&split32, &whole32) {
            assert!(rel < 1e-5, "f32, B {b}, {count} shards, {name}: {rel:e}");
        }
        // f32 against f64: rounding of f32 over 200 steps, not a different gradient.
        for (name, rel) in relative_differences(&split32, &whole64) {
            assert!(rel < 1e-3, "f32 vs f64, B {b}, {count} shards, {name}: {rel:e}");
        }
        assert!((split64.loss - whole64.loss).abs() < 1e-12 * whole64.loss);
        // One f32 shard is the kernels' whole-batch gradient, bit for bit.
        let step = spikegrad::Step::<f32>::new(&model.config).unwrap();
        let direct = Workspace::with_threads(1)
            .gradient(&step, &model.network(), &trials.batch(), &trials.loss())
            .unwrap()
            .clone();
        assert_eq!(whole32.loss, direct.loss);
        assert_eq!(whole32.w, direct.w.iter().map(|&x| x as f64).collect::<Vec<_>>());
        assert_eq!(whole32.o, direct.o.iter().map(|&x| x as f64).collect::<Vec<_>>());
    }
}

/// `short_run` with per-neuron time constants trained in `range`.
fn run_with_constants(range: TimeConstantRange, iterations: usize) -> (Vec<f64>, Model, Model) {
    let task = Predict { h: 1.0, duration_ms: 200.0, time_scale_ms: 50.0 };
    let model =
        Model::quiet_start(task.config(20.0, 10.0), 16, 2, 2, predict::INIT, &mut Rng::new(5));
    let settings = Settings {
        clip: Clip::PerParameter(1.0),
        time_constants: Some(range),
        ..Settings::new(2e-2)
    };
    let mut trainer = Trainer::new(model, settings).unwrap();
    let start = trainer.model.clone();
    let mut trials = Trials::new(&trainer.model, 8, task.steps());
    task.sample(&mut Rng::new(6), &mut trials);
    let losses = (0..iterations).map(|_| trainer.train_step(&trials).unwrap().loss).collect();
    (losses, start, trainer.model)
}

#[test]
fn time_constants_train_per_neuron_and_stay_in_range() {
    // h = 1, Delta = 1: valid tau >= 4 ms, tau_s > 1 ms; the range binds tau_s <= 10.5.
    let range = TimeConstantRange { tau: (5.0, 40.0), tau_s: (2.0, 10.5) };
    let (losses, start, end) = run_with_constants(range, 40);
    assert!(losses[39] < 0.5 * losses[0], "{} -> {}", losses[0], losses[39]);
    let (tau0, tau) = (start.tau.clone().unwrap(), end.tau.clone().unwrap());
    let (tau_s0, tau_s) = (start.tau_s.clone().unwrap(), end.tau_s.clone().unwrap());
    assert_eq!((tau0.len(), tau_s0.len()), (16, 16));
    assert!(tau0.iter().all(|&x| x == 20.0) && tau_s0.iter().all(|&x| x == 10.0));
    assert!(tau.iter().all(|&x| (5.0..=40.0).contains(&x)), "{tau:?}");
    assert!(tau_s.iter().all(|&x| (2.0..=10.5).contains(&x)), "{tau_s:?}");
    // They moved, and not all alike: a constant per neuron.
    let moved = tau.iter().zip(&tau0).filter(|(a, b)| a != b).count();
    assert!(moved >= 12, "{moved} of 16 tau moved: {tau:?}");
    let spread = |v: &[f32]| {
        v.iter().fold(f32::MIN, |m, &x| m.max(x)) - v.iter().fold(f32::MAX, |m, &x| m.min(x))
    };
    assert!(spread(&tau) > 0.1 && spread(&tau_s) > 0.01, "{tau:?} {tau_s:?}");
    // The trained model is valid for the kernels as it stands.
    let step = spikegrad::Step::<f32>::new(&end.config).unwrap();
    let trials = Trials::new(&end, 1, 10);
    spikegrad::Workspace::new()
        .forward(&step, &end.network(), &trials.batch(), spikegrad::Record::Readout)
        .unwrap();
}

#[test]
fn time_constants_are_clamped_to_the_validity_rules() {
    // The range allows what the rules do not (tau < 4h/Delta = 4, tau_s <= h = 1): the
    // rules win, with their margin, even after many steps that push down.
    let range = TimeConstantRange { tau: (0.1, 4.05), tau_s: (0.5, 1.5) };
    let (_, start, end) = run_with_constants(range, 30);
    for model in [&start, &end] {
        let tau = model.tau.as_ref().unwrap();
        let tau_s = model.tau_s.as_ref().unwrap();
        assert!(tau.iter().all(|&x| x as f64 >= 4.0 * (1.0 + 1e-4) && x <= 4.05), "{tau:?}");
        assert!(tau_s.iter().all(|&x| x as f64 > 1.0 && x <= 1.5), "{tau_s:?}");
    }
    // An empty range is refused, naming the constant.
    let task = Predict { h: 1.0, duration_ms: 20.0, time_scale_ms: 50.0 };
    let model =
        Model::quiet_start(task.config(20.0, 10.0), 4, 2, 2, predict::INIT, &mut Rng::new(1));
    let empty = TimeConstantRange { tau: (1.0, 3.0), ..TimeConstantRange::VALID };
    let settings = Settings { time_constants: Some(empty), ..Settings::new(1e-2) };
    let error = Trainer::new(model, settings).err().expect("refused").to_string();
    assert!(error.contains("tau") && error.contains("empty"), "{error}");
}

#[test]
fn shards_combine_the_gradients_of_the_time_constants() {
    let task = Predict { h: 1.0, duration_ms: 200.0, time_scale_ms: 50.0 };
    let mut model =
        Model::quiet_start(task.config(20.0, 10.0), 16, 2, 2, predict::INIT, &mut Rng::new(9));
    model.tau = Some((0..16).map(|j| 15.0 + j as f32).collect());
    model.tau_s = Some((0..16).map(|j| 5.0 + 0.5 * j as f32).collect());
    let mut trials = Trials::new(&model, 5, task.steps());
    task.sample(&mut Rng::new(10), &mut trials);
    let whole = Shards::<f64>::new(&model.config, model.step, 1)
        .unwrap()
        .gradient(&model, &trials)
        .unwrap()
        .clone();
    let split = Shards::<f64>::new(&model.config, model.step, 2)
        .unwrap()
        .gradient(&model, &trials)
        .unwrap()
        .clone();
    for (name, a, b) in [("tau", &split.tau, &whole.tau), ("tau_s", &split.tau_s, &whole.tau_s)] {
        assert_eq!(b.len(), 16, "{name}");
        let scale = b.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        assert!(scale > 0.0, "{name}");
        let diff = a.iter().zip(b).fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
        assert!(diff <= 1e-12 * scale, "{name}: {diff:e} of {scale:e}");
    }
}

/// A batch of every loss of docs/model.md section 6, with an external current, a rate
/// penalty and a connectivity mask: the objective, trial for trial.
fn general_trials(model: &Model, objective: Objective, b: usize, t: usize) -> Trials {
    let mut rng = Rng::new(21);
    let mut trials = Trials::new(model, b, t);
    trials.x = rng.normals(t * b * model.n_in, 0.0, 1.0);
    trials.i_ext = rng.normals(t * b * model.n, 0.2, 0.5);
    trials.objective = objective;
    trials.rate_penalty = 0.3;
    match objective {
        Objective::CrossEntropy { .. } => {
            (trials.target, trials.mask) = (Vec::new(), Vec::new());
            trials.labels = (0..b).map(|k| k % model.n_out).collect();
        }
        Objective::Linear => {
            trials.target = rng.normals(t * b * model.n_out, 0.0, 1.0);
            trials.mask = Vec::new();
        }
        _ => {
            trials.target = rng.normals(t * b * model.n_out, 0.0, 1.0);
            trials.mask = (0..t * b * model.n_out).map(|i| (i % 3) as f32 / 2.0).collect();
        }
    }
    trials
}

#[test]
fn shards_combine_every_loss_with_external_current_and_mask() {
    use spikegrad::Workspace;
    let task = Predict { h: 1.0, duration_ms: 120.0, time_scale_ms: 50.0 };
    let mut model =
        Model::quiet_start(task.config(20.0, 10.0), 12, 2, 3, predict::INIT, &mut Rng::new(3));
    let mask: Vec<f32> = (0..144).map(|i| ((i * 7) % 5 != 0) as u8 as f32).collect();
    model.w_mask = Some(mask);
    let objectives = [
        Objective::Mse,
        Objective::CrossEntropy { from_step: 40, to_step: 120 },
        Objective::Linear,
    ];
    for objective in objectives {
        let trials = general_trials(&model, objective, 5, task.steps());
        let whole = Shards::<f64>::new(&model.config, model.step, 1)
            .unwrap()
            .gradient(&model, &trials)
            .unwrap()
            .clone();
        let split = Shards::<f64>::new(&model.config, model.step, 2)
            .unwrap()
            .gradient(&model, &trials)
            .unwrap()
            .clone();
        for (name, rel) in relative_differences(&split, &whole) {
            assert!(rel < 1e-12, "{objective:?}, {name}: {rel:e}");
        }
        assert!((split.loss - whole.loss).abs() <= 1e-12 * whole.loss.abs(), "{objective:?}");
        // The masked entries of W get no gradient.
        let mask = model.w_mask.as_ref().unwrap();
        assert!(whole.w.iter().zip(mask).all(|(g, &m)| m != 0.0 || *g == 0.0), "{objective:?}");
        // One f32 shard is the kernels' gradient of the same problem, bit for bit.
        let one = Shards::<f32>::new(&model.config, model.step, 1)
            .unwrap()
            .gradient(&model, &trials)
            .unwrap()
            .clone();
        let step = spikegrad::Step::<f32>::new(&model.config).unwrap();
        let direct = Workspace::with_threads(1)
            .gradient(&step, &model.network(), &trials.batch(), &trials.loss())
            .unwrap()
            .clone();
        assert_eq!(one.loss, direct.loss, "{objective:?}");
        assert_eq!(one.u, direct.u.iter().map(|&x| x as f64).collect::<Vec<_>>(), "{objective:?}");
    }
}

#[test]
fn a_restored_optimiser_takes_the_same_steps() {
    let task = Predict { h: 1.0, duration_ms: 100.0, time_scale_ms: 50.0 };
    let model =
        Model::quiet_start(task.config(20.0, 10.0), 8, 2, 2, predict::INIT, &mut Rng::new(4));
    let settings = Settings { step_scales: [0.5, 2.0, 1.0, 3.0], ..Settings::new(1e-2) };
    let mut trials = Trials::new(&model, 4, task.steps());
    task.sample(&mut Rng::new(5), &mut trials);
    let mut straight = Trainer::new(model.clone(), settings).unwrap();
    for _ in 0..6 {
        straight.train_step(&trials).unwrap();
    }
    let mut first = Trainer::new(model, settings).unwrap();
    for _ in 0..3 {
        first.train_step(&trials).unwrap();
    }
    let mut resumed = Trainer::new(first.model.clone(), settings).unwrap();
    resumed.restore_optimizer(first.optimizer_state()).unwrap();
    for _ in 0..3 {
        resumed.train_step(&trials).unwrap();
    }
    assert_eq!(resumed.model, straight.model);
    assert_eq!(resumed.updates(), 6);
    // A state of another model's sizes is refused, and nothing changes.
    let other =
        Model::quiet_start(task.config(20.0, 10.0), 9, 2, 2, predict::INIT, &mut Rng::new(4));
    let foreign = Trainer::new(other, settings).unwrap().optimizer_state();
    let error = resumed.restore_optimizer(foreign).unwrap_err();
    assert!(error.contains("expected 64"), "{error}");
    assert_eq!(resumed.updates(), 6);
}

/// A small classification task: the class is the sign of a constant input.
fn sign_task(t: usize, k: usize) -> task::Task {
    let labels: Vec<usize> = (0..k).map(|i| i % 2).collect();
    let x = (0..t).flat_map(|_| labels.iter().map(|&l| if l == 1 { 1.0 } else { -1.0 })).collect();
    task::Task {
        config: Config::new(1.0, 10.0, 5.0, Gate::RaisedCosine { delta: 1.0 }),
        step: PhaseStep::Midpoint,
        t,
        k,
        n_in: 1,
        n_out: 2,
        x,
        target: vec![],
        mask: vec![],
        labels,
        i_ext: vec![],
        w_mask: None,
        objective: Objective::CrossEntropy { from_step: t / 2, to_step: t },
        rate_penalty: 0.0,
    }
}

#[test]
fn the_task_loop_refuses_bad_tasks_splits_and_windows_with_errors() {
    let good = sign_task(20, 10);
    let model = task::initial_model(
        &good,
        &[0, 1, 2],
        8,
        PhaseStep::Midpoint,
        &task::TaskOptions::default(),
    )
    .unwrap();
    let mut bad = good.clone();
    bad.objective = Objective::CrossEntropy { from_step: 5, to_step: 21 };
    let error = task::train(
        &bad,
        &task::Split::within(&good).unwrap(),
        task::Start::fresh(model.clone()),
        &task::TaskOptions::default(),
        &mut Quiet,
    );
    assert!(error.err().unwrap().to_string().contains("to_step <= T = 20"));
    let mut split = task::Split::within(&good).unwrap();
    split.held_out.push(10);
    let error = task::train(
        &good,
        &split,
        task::Start::fresh(model.clone()),
        &Default::default(),
        &mut Quiet,
    );
    assert!(error
        .err()
        .unwrap()
        .to_string()
        .contains("split.held_out 10: a trial index must be below K = 10"));
    let mut bad = good.clone();
    bad.labels[3] = 2;
    assert!(task::initial_model(&bad, &[0], 8, PhaseStep::Midpoint, &task::TaskOptions::default())
        .is_err());
    assert!(task::initial_model(&good, &[], 8, PhaseStep::Midpoint, &task::TaskOptions::default())
        .is_err());
    assert!(task::initial_model(
        &good,
        &[0],
        0,
        PhaseStep::Midpoint,
        &task::TaskOptions::default()
    )
    .is_err());
    assert!(task::predictions(&[0.0; 8], 2, 2, 1, 3).is_err());
    assert_eq!(task::predictions(&[0.0, 1.0, 1.0, 0.0], 2, 2, 0, 1).unwrap(), vec![1, 0]);
    let mut trainer = Trainer::new(model, Settings::new(1e-3)).unwrap();
    assert!(task::score(&mut trainer, &good, &[11]).is_err());
    assert!(task::score(&mut trainer, &good, &[0, 1]).unwrap().accuracy.is_some());
}

#[test]
fn a_stop_from_the_observer_saves_a_checkpoint_and_cancels() {
    struct StopAtThree(Vec<usize>);
    impl Observer<task::Check> for StopAtThree {
        fn step(&mut self, iteration: usize, _: &StepReport, _: &Trainer) -> Control {
            if iteration == 3 {
                Control::Stop
            } else {
                Control::Continue
            }
        }
    }
    impl task::TaskObserver for StopAtThree {
        fn checkpoint(
            &mut self,
            state: task::RunState<'_>,
        ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
            self.0.push(state.progress.iteration);
            Ok(())
        }
    }
    let good = sign_task(20, 10);
    let split = task::Split::within(&good).unwrap();
    let model = task::initial_model(
        &good,
        &split.train,
        8,
        PhaseStep::Midpoint,
        &task::TaskOptions::default(),
    )
    .unwrap();
    let mut observer = StopAtThree(Vec::new());
    let result =
        task::train(&good, &split, task::Start::fresh(model), &Default::default(), &mut observer);
    assert!(matches!(result, Err(TrainError::Cancelled { iteration: 3 })));
    assert_eq!(observer.0, vec![3]);
}

/// An observer that keeps the probes and the plan a run reports.
#[derive(Default)]
struct PlanRecorder {
    probes: Vec<(task::Probe, usize, usize)>,
    plans: Vec<task::Plan>,
}

impl Observer<task::Check> for PlanRecorder {}

impl task::TaskObserver for PlanRecorder {
    fn probed(&mut self, probe: &task::Probe, (k, count): (usize, usize)) {
        self.probes.push((probe.clone(), k, count));
    }

    fn planned(&mut self, plan: &task::Plan) {
        self.plans.push(plan.clone());
    }
}

#[test]
fn a_drawn_start_probes_each_rate_and_trains_with_the_best() {
    let good = sign_task(20, 40);
    let split = task::Split::within(&good).unwrap();
    let mut options = task::TaskOptions::default();
    (options.neurons, options.iterations, options.time_limit) = (8, Some(12), 0.0);
    options.probes.learning_rates = vec![1e-4, 3e-2];
    options.probes.recurrent_currents = vec![0.1, 0.3, 1.0];
    options.probes.iterations = Some(6);
    let mut observer = PlanRecorder::default();
    let start = task::Start::drawn(8, PhaseStep::Midpoint);
    let run = task::train(&good, &split, start, &options, &mut observer).unwrap();
    // Two rates at the middle scale 0.3, then the other two scales at the better rate.
    let tried: Vec<(f64, f64, usize)> = observer
        .probes
        .iter()
        .map(|(p, k, _)| (p.learning_rate, p.recurrent_current, *k))
        .collect();
    let rate = tried[2].0;
    assert_eq!(tried[..2], [(1e-4, 0.3, 1), (3e-2, 0.3, 2)]);
    assert_eq!(tried[2..], [(rate, 0.1, 3), (rate, 1.0, 4)]);
    assert!(observer.probes.iter().all(|(p, _, count)| *count == 4 && p.iterations == 6));
    // The plan takes the setting of the best probe, by the held-out score.
    let plan = &observer.plans[0];
    let best = observer
        .probes
        .iter()
        .map(|(p, _, _)| p)
        .reduce(|best, p| if p.score.beats(&best.score) { p } else { best })
        .unwrap();
    assert_eq!(
        (plan.learning_rate, plan.recurrent_current),
        (best.learning_rate, best.recurrent_current)
    );
    let by = plan.chosen_by;
    assert_eq!(
        [by.learning_rate, by.recurrent_current, by.iterations],
        [task::ChosenBy::Probes, task::ChosenBy::Probes, task::ChosenBy::Option]
    );
    assert_eq!((plan.iterations, plan.eval_every, plan.probes.len()), (12, 1, 4));
    assert_eq!(run.progress.plan.as_ref(), Some(plan));
    assert_eq!(run.progress.iteration, 12);
    // Given settings leave nothing to probe.
    options.set_learning_rate(1e-3);
    options.set_recurrent_current(0.2);
    let mut observer = PlanRecorder::default();
    let start = task::Start::drawn(8, PhaseStep::Midpoint);
    task::train(&good, &split, start, &options, &mut observer).unwrap();
    assert!(observer.probes.is_empty());
    let plan = &observer.plans[0];
    assert_eq!((plan.learning_rate, plan.recurrent_current), (1e-3, 0.2));
    let by = plan.chosen_by;
    assert_eq!(
        [by.learning_rate, by.recurrent_current, by.iterations],
        [task::ChosenBy::Option; 3]
    );
}

#[test]
fn a_resumed_run_keeps_its_plan_and_probes_no_more() {
    let good = sign_task(20, 40);
    let split = task::Split::within(&good).unwrap();
    let mut options = task::TaskOptions::default();
    (options.neurons, options.iterations, options.time_limit) = (8, Some(20), 0.0);
    options.probes.learning_rates = vec![1e-3, 1e-2];
    options.probes.iterations = Some(4);
    let drawn = |options: &task::TaskOptions| {
        let start = task::Start::drawn(8, PhaseStep::Midpoint);
        task::train(&good, &split, start, options, &mut Quiet).unwrap()
    };
    let whole = drawn(&options);
    options.pause_at = Some(7);
    let paused = drawn(&options);
    assert_eq!(paused.stopped, task::Stopped::Pause);
    let resume = task::Resume {
        optimizer: paused.trainer.optimizer_state(),
        progress: paused.progress.clone(),
        best: Some(paused.best.clone()),
    };
    options.pause_at = None;
    // Other candidates now: the saved plan's rate stands.
    options.probes.learning_rates = vec![5e-2, 7e-2];
    let mut observer = PlanRecorder::default();
    let from = task::StartFrom::Resumed(paused.trainer.model.clone(), Box::new(resume));
    let start = task::Start { from, started: std::time::Instant::now() };
    let resumed = task::train(&good, &split, start, &options, &mut observer).unwrap();
    assert!(observer.probes.is_empty());
    assert_eq!(Some(&observer.plans[0]), paused.progress.plan.as_ref());
    let (plan, whole_plan) = (&observer.plans[0], whole.progress.plan.as_ref().unwrap());
    assert_eq!((plan.learning_rate, plan.iterations), (whole_plan.learning_rate, 20));
    assert_eq!(resumed.trainer.model, whole.trainer.model, "the same steps as the whole run");
    assert_eq!(resumed.best, whole.best);
}

#[test]
fn plans_and_probes_refuse_bad_options_and_fit_the_time_left() {
    let mut options = task::TaskOptions::default();
    options.probes.learning_rates = vec![1e-3, 0.0];
    let error = options.check().unwrap_err().to_string();
    assert!(error.contains("probe_learning_rates 0: each must be finite and > 0"), "{error}");
    let mut options = task::TaskOptions::default();
    options.probes.recurrent_currents = vec![f64::NAN];
    assert!(options.check().unwrap_err().to_string().contains("probe_recurrent_currents NaN"));
    let mut options = task::TaskOptions::default();
    let error = options.set_clip(Some("sideways"), None).unwrap_err().to_string();
    assert!(error.contains("clip sideways: must be one of"), "{error}");
    options.set_clip(Some("per-parameter"), Some(2.0)).unwrap();
    assert_eq!(options.clip, Clip::PerParameter(2.0));
    options.set_clip(None, Some(3.0)).unwrap();
    assert_eq!(options.clip, Clip::PerParameter(3.0));
    options.iterations = Some(0);
    assert!(options.check().unwrap_err().to_string().contains("iterations 0"));
    // 200 s: 92% less the final scoring planned (183.5 s), checks as many as fit in a
    // tenth of that (36 of 0.5 s), the steps in the rest (165.5 s at 10 ms).
    let pace = Pace { step: 0.01, check: 0.5 };
    let (n, checks) = pace.fit(200.0, 50);
    assert_eq!(checks, 36);
    assert!((16_540..=16_550).contains(&n), "{n}");
    // Cheap checks: a hundred; dear ones: twenty all the same, and the fewest iterations.
    assert_eq!(Pace { step: 0.01, check: 1e-4 }.fit(200.0, 50).1, task::pace::CHECKS);
    assert_eq!(Pace { step: 0.01, check: 10.0 }.fit(100.0, 50), (50, task::pace::MIN_CHECKS));
    // Never beyond the cap, never below the floor.
    let fast = Pace { step: 1e-6, check: 1e-3 };
    assert_eq!(fast.fit(1e9, 50).0, task::pace::MAX_ITERATIONS);
    assert_eq!(fast.fit(-5.0, 50).0, 50);
    let plan = task::Plan::new(128, 1e-2, 0.15, 12_000, None);
    assert_eq!(plan.eval_every, 120);
    assert_eq!(
        plan.to_string(),
        "128 neurons (option), learning rate 0.01 (option), recurrent scale 0.15 (option), 12000 iterations (option), checks every 120"
    );
}

/// An observer that keeps the notes a run prints.
#[derive(Default)]
struct Notes(Vec<String>);

impl Observer<task::Check> for Notes {
    fn note(&mut self, line: &str) {
        self.0.push(line.to_string());
    }
}

impl task::TaskObserver for Notes {}

#[test]
fn a_run_whose_checks_fall_backs_off_to_its_best_model_at_half_the_rate() {
    // A regression: the readout copies the input's sign over the second half.
    let mut good = sign_task(20, 40);
    let (t, k) = (good.t, good.k);
    good.target = good.x.clone();
    good.mask = (0..t * k).map(|i| if i / k >= t / 2 { 1.0 } else { 0.0 }).collect();
    (good.n_out, good.labels, good.objective) = (1, vec![], Objective::Mse);
    let split = task::Split::within(&good).unwrap();
    let mut options = task::TaskOptions::default();
    (options.neurons, options.iterations, options.time_limit) = (8, Some(60), 0.0);
    options.eval_every = Some(1);
    // Rates far too large: the checks fall from their best again and again.
    options.set_learning_rate(3.0);
    options.readout_learning_rate = 30.0;
    let mut notes = Notes::default();
    let start = task::Start::drawn(8, PhaseStep::Midpoint);
    let run = task::train(&good, &split, start, &options, &mut notes).unwrap();
    let p = &run.progress;
    assert!(!p.back_offs.is_empty(), "{:?}", p.checks);
    assert_eq!(notes.0.len(), p.back_offs.len(), "{:?}", notes.0);
    assert!(notes.0.iter().all(|n| n.contains("fell below the best")), "{:?}", notes.0);
    assert_eq!(p.rate_factor(), task::BACK_OFF_RATE.powi(p.back_offs.len() as i32));
    // The rule, replayed over the checks: a back-off follows exactly the checks that
    // make FALLEN_CHECKS in a row below the best so far.
    let (mut best, mut fallen, mut expected) = (None::<task::Score>, 0, Vec::new());
    for check in &p.checks {
        match best {
            Some(b) if !check.score.beats(&b) => {
                fallen =
                    if task::fell(&check.score, &b, split.held_out.len()) { fallen + 1 } else { 0 };
            }
            _ => (best, fallen) = (Some(check.score), 0),
        }
        if fallen == task::FALLEN_CHECKS {
            expected.push(check.iteration);
            fallen = 0;
        }
    }
    assert_eq!(p.back_offs, expected);
    // The kept model is the best check's.
    assert_eq!(run.score, p.best.unwrap().score);
}

#[test]
fn a_probe_has_learned_only_beyond_the_untrained_model_and_a_readout_of_zero() {
    let classes = sign_task(20, 40);
    let mut regression = sign_task(20, 40);
    regression.objective = Objective::Mse;
    let accuracy = |a: f64, loss: f64| task::Score { loss, accuracy: Some(a), nmse: None };
    let nmse = |e: f64| task::Score { loss: e, accuracy: None, nmse: Some(e) };
    let learned = |score, untrained, task| task::learned(&score, &untrained, task, 1000);
    assert!(learned(accuracy(0.9, 0.3), accuracy(0.33, 1.1), &classes));
    assert!(!learned(accuracy(0.35, 0.6), accuracy(0.33, 0.7), &classes));
    // Already classified at the start: a loss fallen twentyfold is learning ...
    assert!(learned(accuracy(1.0, 0.012), accuracy(1.0, 0.235), &classes));
    // ... but equal readouts (ln 2) after an overconfident start are not.
    assert!(!learned(accuracy(0.5, 0.69), accuracy(0.5, 3.0), &classes));
    // A readout of zero scores NMSE 1: a probe near it has learned nothing, however
    // poor the untrained readout was.
    assert!(!learned(nmse(0.97), nmse(1.3), &regression));
    assert!(learned(nmse(0.3), nmse(1.3), &regression));
    assert!(learned(nmse(0.03), nmse(0.9), &regression));
}

#[test]
fn probes_that_learn_nothing_leave_the_rate_to_its_option() {
    // Labels that do not depend on the input (its sign alternates trial by trial, the
    // labels pair by pair): nothing generalises to the held-out trials.
    let mut noise = sign_task(20, 40);
    noise.labels = (0..40).map(|i| (i / 2) % 2).collect();
    let split = task::Split::within(&noise).unwrap();
    let mut options = task::TaskOptions::default();
    (options.neurons, options.iterations, options.time_limit) = (8, Some(12), 0.0);
    options.probes.iterations = Some(6);
    let mut observer = PlanRecorder::default();
    let start = task::Start::drawn(8, PhaseStep::Midpoint);
    let run = task::train(&noise, &split, start, &options, &mut observer).unwrap();
    let plan = run.progress.plan.as_ref().unwrap();
    assert_eq!(observer.probes.len(), 4);
    let untrained = plan.untrained.expect("probes score the untrained model");
    let held_out = split.held_out.len();
    assert!(plan.probes.iter().all(|p| !task::learned(&p.score, &untrained, &noise, held_out)));
    assert_eq!(plan.chosen_by.learning_rate, task::ChosenBy::NoProbeLearned);
    assert_eq!(plan.learning_rate, options.learning_rate);
    assert!(plan.to_string().contains("(no probe learned)"), "{plan}");
    assert!(plan.to_string().contains("; untrained: held-out accuracy"), "{plan}");
    // The default fallback (64) is not below N = 8: N stands.
    assert_eq!((plan.neurons, plan.chosen_by.neurons), (8, task::ChosenBy::Option));
    // A smaller fallback trains a smaller network ...
    options.probes.fallback_neurons = Some(4);
    let start = task::Start::drawn(8, PhaseStep::Midpoint);
    let run = task::train(&noise, &split, start, &options, &mut Quiet).unwrap();
    let plan = run.progress.plan.as_ref().unwrap();
    assert_eq!((plan.neurons, plan.chosen_by.neurons), (4, task::ChosenBy::NoProbeLearned));
    assert_eq!((run.best.n, run.trainer.model.n), (4, 4));
    assert!(plan.to_string().starts_with("4 neurons (no probe learned), "), "{plan}");
    // ... unless the user gave N, or the task fixes it.
    options.set_neurons(8);
    let start = task::Start::drawn(8, PhaseStep::Midpoint);
    let run = task::train(&noise, &split, start, &options, &mut Quiet).unwrap();
    assert_eq!(run.best.n, 8);
    options.probes.fallback_neurons = Some(4);
    let masked = task::Task { w_mask: Some(vec![1.0; 64]), ..noise.clone() };
    let split = task::Split::within(&masked).unwrap();
    let start = task::Start::drawn(8, PhaseStep::Midpoint);
    let run = task::train(&masked, &split, start, &options, &mut Quiet).unwrap();
    assert_eq!(run.best.n, 8);
}
