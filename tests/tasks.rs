//! Integration tests of the task generators: the wagering environment's arithmetic and
//! seeding, the block process, the supervised datasets and the optimal-policy formulas.

use rand::Rng;
use rnn_dynamics::rng::stream;
use rnn_dynamics::tasks::wait_time::{DT_S, MAX_ITI_STEPS, OPT_OUT_PENALTY, WAIT_COST};
use rnn_dynamics::tasks::{Action, Block, EnvConfig, Epoch, Outcome, TrialRecord, WaitTimeEnv};

/// Everything one session produced, step by step and trial by trial.
struct Session {
    inputs: Vec<[f32; 4]>,
    epochs: Vec<Epoch>,
    actions: Vec<Action>,
    rewards: Vec<f64>,
    trials: Vec<TrialRecord>,
}

/// Runs `env` until `n_trials` trials have finished, choosing in-trial actions with `policy`
/// (called with the in-trial step index and the session's step index).
fn run_session(
    mut env: WaitTimeEnv,
    n_trials: usize,
    mut policy: impl FnMut(u32, u64) -> Action,
) -> Session {
    let mut session = Session {
        inputs: Vec::new(),
        epochs: Vec::new(),
        actions: Vec::new(),
        rewards: Vec::new(),
        trials: Vec::new(),
    };
    let mut in_trial_step = 0;

    while session.trials.len() < n_trials {
        session.inputs.push(env.input());
        let action = if env.in_iti() {
            Action::Iti
        } else {
            policy(in_trial_step, env.steps_taken())
        };
        in_trial_step = if env.in_iti() { 0 } else { in_trial_step + 1 };

        let outcome = env.step(action).expect("policy chose an allowed action");
        session.epochs.push(outcome.epoch);
        session.actions.push(action);
        session.rewards.push(outcome.reward);
        if let Some(record) = outcome.finished_trial {
            session.trials.push(record);
            in_trial_step = 0;
        }
    }
    session
}

fn config(seed: u64, p_catch: f64, use_blocks: bool) -> EnvConfig {
    EnvConfig {
        seed,
        p_catch,
        use_blocks,
        ..EnvConfig::default()
    }
}

fn env(seed: u64, p_catch: f64, use_blocks: bool) -> WaitTimeEnv {
    WaitTimeEnv::new(config(seed, p_catch, use_blocks)).unwrap()
}

/// Opts out with probability 0.02 per in-trial step, drawing from its own `actions` stream.
fn random_policy(seed: u64) -> impl FnMut(u32, u64) -> Action {
    let mut actions = stream(seed, "actions");
    move |_, _| {
        if actions.gen::<f64>() < 0.02 {
            Action::OptOut
        } else {
            Action::Wait
        }
    }
}

#[test]
fn catch_timeout_waits_30_1_s() {
    let session = run_session(env(1, 1.0, false), 5, |_, _| Action::Wait);

    for trial in &session.trials {
        assert!(trial.catch);
        assert_eq!(trial.outcome, Outcome::Timeout);
        assert!(
            (trial.wait_time_s - 30.1).abs() < 1e-9,
            "wait time {}",
            trial.wait_time_s
        );
        assert_eq!(trial.decision_step - trial.start_step + 1, 602);
        assert!((trial.reward_total - 602.0 * WAIT_COST).abs() < 1e-9);
    }
}

#[test]
fn rewarded_slices_sum_to_offer() {
    let session = run_session(env(2, 0.0, true), 300, |_, _| Action::Wait);

    for trial in &session.trials {
        assert_eq!(trial.outcome, Outcome::Rewarded);
        let in_trial = (trial.start_step..=trial.decision_step).count() as f64;
        let rewards = &session.rewards[trial.start_step as usize..=trial.end_step as usize];

        let slices: f64 = rewards.iter().sum::<f64>() - in_trial * WAIT_COST;
        assert!(
            (slices - trial.offer_ul).abs() < 1e-6,
            "trial {}: {slices}",
            trial.trial
        );
        assert!((rewards.iter().sum::<f64>() - trial.reward_total).abs() < 1e-9);

        // I slices: the decision step, ITI steps 1..I−1, and a last ITI step that pays 0.
        let slice = trial.offer_ul / f64::from(trial.iti_steps);
        let iti = &rewards[(trial.decision_step - trial.start_step + 1) as usize..];
        assert_eq!(iti.len(), trial.iti_steps as usize);
        assert_eq!(*iti.last().unwrap(), 0.0);
        for reward in &iti[..iti.len() - 1] {
            assert!((reward - slice).abs() < 1e-12);
        }
        let decision_reward = rewards[(trial.decision_step - trial.start_step) as usize];
        assert!((decision_reward - (WAIT_COST + slice)).abs() < 1e-12);

        // A rewarded trial waits exactly through the reward step ⌊delay/dt⌋.
        let reward_step = ((trial.delay_s / DT_S).floor() as u64).min(600);
        assert_eq!(trial.decision_step - trial.start_step, reward_step);
    }
}

#[test]
fn opt_out_wait_time_counts_steps() {
    // Opt out on in-trial step k = (session step mod 9): the first chance is the trial's first step.
    let mut target = None;
    let session = run_session(env(3, 0.2, true), 400, |t, step| {
        let k = *target.get_or_insert((step % 9) as u32);
        if t >= k {
            target = None;
            Action::OptOut
        } else {
            Action::Wait
        }
    });

    let mut opt_outs = 0;
    for trial in &session.trials {
        let k = trial.decision_step - trial.start_step;
        assert!((trial.wait_time_s - (k + 1) as f64 * DT_S).abs() < 1e-9);
        if trial.outcome == Outcome::OptedOut {
            opt_outs += 1;
            let rewards = &session.rewards[trial.start_step as usize..=trial.end_step as usize];
            let penalty: f64 = rewards.iter().sum::<f64>() - (k + 1) as f64 * WAIT_COST;
            assert!(
                (penalty - OPT_OUT_PENALTY).abs() < 1e-9,
                "penalty {penalty}"
            );
        }
    }
    assert!(opt_outs > 100, "only {opt_outs} opt-outs");

    // The quickest opt-out, on the trial's first step, waits one step.
    let quitting = run_session(env(3, 0.2, true), 50, |_, _| Action::OptOut);
    for trial in &quitting.trials {
        assert_eq!(trial.outcome, Outcome::OptedOut);
        assert!((trial.wait_time_s - DT_S).abs() < 1e-12);
    }
}

#[test]
fn start_flag_marks_first_step_only() {
    let session = run_session(env(4, 0.2, true), 500, random_policy(4));
    let mut starts = 0;

    for (step, (input, epoch)) in session.inputs.iter().zip(&session.epochs).enumerate() {
        let first = *epoch == Epoch::TrialStart;
        assert_eq!(
            input[1],
            if first { 1.0 } else { 0.0 },
            "start flag on step {step}"
        );
        assert_eq!(input[0] != 0.0, first, "offer channel on step {step}");
        starts += usize::from(first);
    }
    assert_eq!(starts, session.trials.len());

    for trial in &session.trials {
        let input = session.inputs[trial.start_step as usize];
        assert_eq!(input[0], trial.offer_ul.ln() as f32);
        let expected_previous_action = if trial.trial == 0 { 0.0 } else { 2.0 };
        assert_eq!(
            input[2], 0.0,
            "previous reward at start of trial {}",
            trial.trial
        );
        assert_eq!(input[3], expected_previous_action);
    }
}

#[test]
fn inputs_carry_previous_reward_and_action() {
    let session = run_session(env(5, 0.2, true), 200, random_policy(5));

    for step in 1..session.inputs.len() {
        assert_eq!(
            session.inputs[step][2],
            session.rewards[step - 1] as f32,
            "step {step}"
        );
        let previous_action = session.actions[step - 1].code() as f32;
        assert_eq!(session.inputs[step][3], previous_action, "step {step}");
    }
}

#[test]
fn same_seed_gives_identical_session() {
    let a = run_session(env(6, 0.2, true), 300, random_policy(6));
    let b = run_session(env(6, 0.2, true), 300, random_policy(6));
    let bits =
        |s: &Session| -> Vec<u32> { s.inputs.iter().flatten().map(|x| x.to_bits()).collect() };
    assert_eq!(bits(&a), bits(&b));
    assert_eq!(a.trials, b.trials);

    let c = run_session(env(7, 0.2, true), 300, random_policy(6));
    assert_ne!(a.inputs, c.inputs);
    assert_ne!(a.trials, c.trials);
}

#[test]
fn actions_do_not_change_trial_variables() {
    let waiting = run_session(env(8, 0.2, true), 600, |_, _| Action::Wait);
    let random = run_session(env(8, 0.2, true), 600, random_policy(99));
    let quitting = run_session(env(8, 0.2, true), 600, |_, _| Action::OptOut);

    let key = |t: &TrialRecord| (t.block, t.offer_ul, t.delay_s, t.catch, t.iti_steps);
    let reference: Vec<_> = waiting.trials.iter().map(key).collect();
    assert_eq!(random.trials.iter().map(key).collect::<Vec<_>>(), reference);
    assert_eq!(
        quitting.trials.iter().map(key).collect::<Vec<_>>(),
        reference
    );

    // The policies did behave differently.
    assert_ne!(waiting.inputs.len(), quitting.inputs.len());
}

#[test]
fn blocks_last_40_trials_and_cycle() {
    let session = run_session(env(9, 0.2, true), 20_000, |_, _| Action::OptOut);

    let mut runs: Vec<(Block, usize)> = Vec::new();
    for trial in &session.trials {
        assert!(trial.block.offers_ul().contains(&trial.offer_ul));
        match runs.last_mut() {
            Some((block, length)) if *block == trial.block => *length += 1,
            _ => runs.push((trial.block, 1)),
        }
    }
    runs.pop(); // the last block is cut off by the end of the session

    assert!(runs.len() > 100, "only {} blocks", runs.len());
    let cycle = [Block::Mixed, Block::Low, Block::Mixed, Block::High];
    for (index, (block, length)) in runs.iter().enumerate() {
        assert_eq!(*block, cycle[index % 4], "block {index}");
        let minimum = if index == 0 { 40 } else { 41 };
        assert!(*length >= minimum, "block {index} lasted {length} trials");
    }

    // Trials beyond the minimum are geometric with switch probability 0.5 (mean 1, sd √2).
    let extra: Vec<f64> = runs[1..]
        .iter()
        .map(|(_, length)| (*length - 41) as f64)
        .collect();
    let mean = extra.iter().sum::<f64>() / extra.len() as f64;
    let tolerance = 5.0 * 2f64.sqrt() / (extra.len() as f64).sqrt();
    assert!(
        (mean - 1.0).abs() < tolerance,
        "mean extra trials {mean} ± {tolerance}"
    );
}

#[test]
fn catch_rate_and_mean_delay_match_settings() {
    let n = 20_000;
    let session = run_session(env(10, 0.2, false), n, |_, _| Action::OptOut);
    let n = n as f64;

    // Tolerances are 5 standard errors of the mean.
    let catch_rate = session.trials.iter().filter(|t| t.catch).count() as f64 / n;
    assert!(
        (catch_rate - 0.2).abs() < 5.0 * (0.16 / n).sqrt(),
        "catch rate {catch_rate}"
    );

    let mean_delay = session.trials.iter().map(|t| t.delay_s).sum::<f64>() / n;
    assert!(
        (mean_delay - 2.5).abs() < 5.0 * 2.5 / n.sqrt(),
        "mean delay {mean_delay}"
    );

    let mean_iti = session
        .trials
        .iter()
        .map(|t| f64::from(t.iti_steps))
        .sum::<f64>()
        / n;
    let iti_sd = ((f64::from(MAX_ITI_STEPS).powi(2) - 1.0) / 12.0).sqrt();
    assert!(
        (mean_iti - 10.5).abs() < 5.0 * iti_sd / n.sqrt(),
        "mean ITI {mean_iti}"
    );
    assert!(session
        .trials
        .iter()
        .all(|t| (1..=MAX_ITI_STEPS).contains(&t.iti_steps)));

    // Offers in the mixed block are uniform over five volumes.
    for volume in [5.0, 10.0, 20.0, 40.0, 80.0] {
        let share = session
            .trials
            .iter()
            .filter(|t| t.offer_ul == volume)
            .count() as f64
            / n;
        assert!(
            (share - 0.2).abs() < 5.0 * (0.16 / n).sqrt(),
            "{volume} µL share {share}"
        );
    }
}

#[test]
fn nocatch_stage_is_mixed_without_catch() {
    let session = run_session(env(11, 0.0, false), 2000, |_, _| Action::OptOut);
    assert!(session
        .trials
        .iter()
        .all(|t| t.block == Block::Mixed && !t.catch));
}

#[test]
fn disallowed_action_is_rejected_without_change() {
    let mut env = env(12, 0.2, true);
    let input = env.input();

    let error = env.step(Action::Iti).unwrap_err().to_string();
    assert!(error.contains("iti on step 0 (in a trial)"), "{error}");
    assert!(error.contains("expected wait or opt_out"), "{error}");
    assert_eq!(env.steps_taken(), 0);
    assert_eq!(env.input(), input);

    env.step(Action::OptOut).unwrap();
    assert!(env.in_iti());
    let error = env.step(Action::Wait).unwrap_err().to_string();
    assert!(error.contains("expected iti"), "{error}");
    assert_eq!(env.steps_taken(), 1);
}

#[test]
fn invalid_config_is_rejected() {
    for p_catch in [-0.1, 1.5, f64::NAN] {
        let error = WaitTimeEnv::new(config(0, p_catch, true))
            .unwrap_err()
            .to_string();
        assert!(error.contains("p_catch"), "{error}");
    }
    let noisy = EnvConfig {
        input_noise_std: [-1.0, 0.0],
        ..EnvConfig::default()
    };
    assert!(WaitTimeEnv::new(noisy).is_err());
}

#[test]
fn input_noise_leaves_clean_input_and_trials_unchanged() {
    let noisy_config = EnvConfig {
        input_noise_std: [5.0, 0.1],
        ..config(13, 0.2, true)
    };
    let mut noisy = WaitTimeEnv::new(noisy_config).unwrap();
    let mut clean = env(13, 0.2, true);

    let mut differing = 0;
    for _ in 0..5000 {
        assert_eq!(noisy.clean_input(), clean.input());
        differing += usize::from(noisy.input() != clean.input());
        assert!(noisy.input()[0] >= 0.0);
        let action = if clean.in_iti() {
            Action::Iti
        } else {
            Action::Wait
        };
        assert_eq!(noisy.step(action).unwrap(), clean.step(action).unwrap());
    }
    assert!(differing > 4000, "noise changed only {differing} inputs");
}

// ---------------------------------------------------------------------------------------
// Supervised datasets
// ---------------------------------------------------------------------------------------

use rnn_dynamics::tasks::{
    expected_value_of_waiting, flipflop_task, inference_task, intermediate_task, optimal_wait_time,
    simple_task, FlipFlopConfig, InferenceConfig, SupervisedBatch, WaitingCosts,
    INTERMEDIATE_LENGTHS, REGULARIZER_LENGTHS, SIMPLE_STEPS,
};

/// Checks that the targets of sequence `b` are memory, count and integration of sub-trials
/// that start where the start flag is 1; `count_offset` is the count of a first step.
fn check_supervised_targets(data: &SupervisedBatch, b: usize, count_offset: f64) {
    let mut offer = f64::NAN;
    let mut t = 0;
    let mut reward_sum = 0.0;

    for step in 0..data.steps {
        let input = data.input(b, step);
        let target = data.target(b, step);
        if input[1] == 1.0 {
            offer = f64::from(input[0]);
            t = 0;
            reward_sum = 0.0;
        } else {
            assert_eq!(
                input[0], 0.0,
                "offer shown off the first step (sequence {b}, step {step})"
            );
            assert_eq!(input[1], 0.0);
        }
        reward_sum += f64::from(input[2]);

        assert_eq!(
            f64::from(target[0]),
            offer,
            "memory (sequence {b}, step {step})"
        );
        let count = (t as f64 + count_offset) / 100.0;
        assert!(
            (f64::from(target[1]) - count).abs() < 1e-6,
            "count (sequence {b}, step {step})"
        );
        let mean = reward_sum / (t + 1) as f64;
        assert!(
            (f64::from(target[2]) - mean).abs() < 1e-5 * (1.0 + mean.abs()),
            "integration (sequence {b}, step {step}): {} vs {mean}",
            target[2]
        );
        t += 1;
    }
}

#[test]
fn intermediate_lengths_sum_to_652() {
    assert_eq!(INTERMEDIATE_LENGTHS.iter().sum::<usize>(), 652);
    assert_eq!(REGULARIZER_LENGTHS.iter().sum::<usize>(), 45);
    let data = intermediate_task(3, &INTERMEDIATE_LENGTHS, 10).unwrap();
    assert_eq!(data.steps, 652);
    assert_eq!(data.inputs.len(), 3 * 652 * 4);
    assert_eq!(data.targets.len(), 3 * 652 * 3);
}

#[test]
fn simple_targets_are_memory_count_integration() {
    let data = simple_task(200, SIMPLE_STEPS, 0).unwrap();
    assert_eq!(
        (data.batch, data.steps, data.input_dim, data.target_dim),
        (200, 20, 4, 3)
    );

    let mut opt_outs = 0;
    for b in 0..data.batch {
        check_supervised_targets(&data, b, 0.0);
        assert_eq!(data.input(b, 0)[1], 1.0);
        assert!([5f32, 10.0, 20.0, 40.0, 80.0]
            .iter()
            .any(|v| v.ln() == data.input(b, 0)[0]));

        let offer = f64::from(data.input(b, 0)[0]).exp();
        let last = data.input(b, SIMPLE_STEPS - 1);
        let opted_out = last[3] == 1.0;
        opt_outs += usize::from(opted_out);
        let (low, high) = if opted_out {
            (-0.1, 0.9)
        } else {
            (offer, offer + 1.0)
        };
        let reward = f64::from(last[2]);
        assert!(
            reward >= low - 1e-4 && reward < high + 1e-4,
            "last reward {reward}"
        );

        for t in 0..SIMPLE_STEPS - 1 {
            let input = data.input(b, t);
            assert!((0.0..1.0).contains(&input[2]), "step {t}: {input:?}");
            assert_eq!(input[3], 0.0, "step {t}: {input:?}");
        }
    }
    assert_eq!(opt_outs, 20);
}

#[test]
fn intermediate_targets_restart_per_sub_trial() {
    let data = intermediate_task(100, &INTERMEDIATE_LENGTHS, 10).unwrap();
    let mut sorted_lengths = INTERMEDIATE_LENGTHS.to_vec();
    sorted_lengths.sort_unstable();

    let mut orders = std::collections::HashSet::new();
    for b in 0..data.batch {
        check_supervised_targets(&data, b, 0.0);

        let starts: Vec<usize> = (0..data.steps)
            .filter(|&t| data.input(b, t)[1] == 1.0)
            .collect();
        let mut lengths: Vec<usize> = starts.windows(2).map(|w| w[1] - w[0]).collect();
        lengths.push(data.steps - starts.last().unwrap());
        orders.insert(lengths.clone());
        lengths.sort_unstable();
        assert_eq!(
            lengths, sorted_lengths,
            "sequence {b} is not a permutation of the lengths"
        );
    }
    assert!(
        orders.len() > 90,
        "only {} distinct orders in 100 sequences",
        orders.len()
    );
}

#[test]
fn intermediate_contains_opt_outs() {
    let data = intermediate_task(500, &INTERMEDIATE_LENGTHS, 10).unwrap();
    let sub_trials = 500.0 * INTERMEDIATE_LENGTHS.len() as f64;
    let opt_outs = data
        .inputs
        .chunks(4)
        .filter(|input| input[3] == 1.0)
        .count() as f64;

    // Each sub-trial opts out with probability 0.1; tolerance is 5 standard errors.
    let rate = opt_outs / sub_trials;
    assert!(
        (rate - 0.1).abs() < 5.0 * (0.09 / sub_trials).sqrt(),
        "opt-out rate {rate}"
    );
}

#[test]
fn datasets_depend_only_on_seed() {
    assert_eq!(
        simple_task(50, 20, 1).unwrap(),
        simple_task(50, 20, 1).unwrap()
    );
    assert_ne!(
        simple_task(50, 20, 1).unwrap(),
        simple_task(50, 20, 2).unwrap()
    );
    assert_eq!(
        intermediate_task(20, &REGULARIZER_LENGTHS, 0).unwrap(),
        intermediate_task(20, &REGULARIZER_LENGTHS, 0).unwrap()
    );
    assert_ne!(
        intermediate_task(20, &REGULARIZER_LENGTHS, 0).unwrap(),
        intermediate_task(20, &REGULARIZER_LENGTHS, 1).unwrap()
    );

    let small = InferenceConfig {
        sequences: 3,
        trials: 60,
        ..InferenceConfig::default()
    };
    let other = InferenceConfig {
        seed: 1,
        ..small.clone()
    };
    assert_eq!(
        inference_task(&small).unwrap(),
        inference_task(&small).unwrap()
    );
    assert_ne!(
        inference_task(&small).unwrap().data,
        inference_task(&other).unwrap().data
    );

    let flipflop = FlipFlopConfig::default();
    let other = FlipFlopConfig {
        seed: 1,
        ..flipflop.clone()
    };
    assert_eq!(
        flipflop_task(&flipflop).unwrap(),
        flipflop_task(&flipflop).unwrap()
    );
    assert_ne!(
        flipflop_task(&flipflop).unwrap(),
        flipflop_task(&other).unwrap()
    );
}

// ---------------------------------------------------------------------------------------
// Block inference
// ---------------------------------------------------------------------------------------

#[test]
fn inference_masks_are_per_sequence() {
    let batch = inference_task(&InferenceConfig::default()).unwrap();
    let data = &batch.data;
    assert_eq!(data.batch, 20);
    assert!(data.steps > 15_000, "only {} steps", data.steps);

    for b in 0..data.batch {
        for t in 0..data.steps {
            let flag = data.input(b, t)[1] == 1.0;
            assert_eq!(
                batch.trial_start[b * data.steps + t],
                flag,
                "sequence {b}, step {t}"
            );
        }
    }
    let first = &batch.trial_start[..data.steps];
    for b in 1..data.batch {
        assert_ne!(
            &batch.trial_start[b * data.steps..(b + 1) * data.steps],
            first
        );
    }
}

#[test]
fn inference_inputs_and_targets() {
    let config = InferenceConfig {
        sequences: 5,
        ..InferenceConfig::default()
    };
    let batch = inference_task(&config).unwrap();
    let data = &batch.data;

    let mut trials = 0;
    let mut opt_outs = 0;
    for b in 0..data.batch {
        // Count is 1/100 on a trial's first step.
        check_supervised_targets(data, b, 1.0);

        let mut offer = 0.0;
        for t in 0..data.steps {
            let input = data.input(b, t);
            let label = batch.block_labels[b * data.steps + t];
            let block = Block::ALL[label as usize];
            if input[1] == 1.0 {
                trials += 1;
                offer = f64::from(input[0]).exp();
                let nearest = block.offers_ul().iter().any(|v| (v - offer).abs() < 1e-3);
                assert!(nearest, "offer {offer} outside the {block} block");
            } else {
                assert_eq!(
                    label,
                    batch.block_labels[b * data.steps + t - 1],
                    "label changed mid-trial"
                );
            }

            // Wait cost on every step, plus the outcome on a trial's last step.
            let last = t + 1 == data.steps || data.input(b, t + 1)[1] == 1.0;
            let reward = f64::from(input[2]);
            if input[3] == 1.0 {
                assert!(last);
                opt_outs += 1;
                assert!((reward - (WAIT_COST + OPT_OUT_PENALTY)).abs() < 1e-6);
            } else if last && t + 1 < data.steps {
                assert!(
                    (reward - (WAIT_COST + offer)).abs() < 1e-4,
                    "reward {reward}"
                );
            } else if !last {
                assert!((reward - WAIT_COST).abs() < 1e-7);
            }
        }
    }

    // About 30 % of trials are opt-outs (exactly 30 % before the cut to a common length).
    let share = opt_outs as f64 / trials as f64;
    assert!((share - 0.3).abs() < 0.03, "opt-out share {share}");
}

#[test]
fn inference_blocks_follow_environment_order() {
    let config = InferenceConfig {
        sequences: 4,
        trials: 1000,
        ..InferenceConfig::default()
    };
    let batch = inference_task(&config).unwrap();
    let steps = batch.data.steps;
    let cycle = [Block::Mixed, Block::Low, Block::Mixed, Block::High];

    for b in 0..config.sequences {
        let mut runs: Vec<(u8, usize)> = Vec::new();
        for t in (0..steps).filter(|&t| batch.trial_start[b * steps + t]) {
            let label = batch.block_labels[b * steps + t];
            match runs.last_mut() {
                Some((current, trials)) if *current == label => *trials += 1,
                _ => runs.push((label, 1)),
            }
        }
        runs.pop();

        assert!(
            runs.len() >= 4,
            "sequence {b} has {} complete blocks",
            runs.len()
        );
        for (index, (label, trials)) in runs.iter().enumerate() {
            assert_eq!(
                *label,
                cycle[index % 4].code(),
                "sequence {b}, block {index}"
            );
            assert!(
                *trials >= 40,
                "sequence {b}, block {index}: {trials} trials"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Optimal policy
// ---------------------------------------------------------------------------------------

#[test]
fn optimal_wait_times_match_reference() {
    let costs = WaitingCosts::default();
    let expected = [
        (5.0, 1.18),
        (10.0, 2.91),
        (20.0, 4.64),
        (40.0, 6.37),
        (80.0, 8.11),
    ];
    for (offer, t_star) in expected {
        let t = optimal_wait_time(offer, &costs).unwrap();
        assert!(
            (t - t_star).abs() < 0.01,
            "{offer} µL: {t} s, expected {t_star} s"
        );
    }

    // Small offers never justify waiting.
    assert_eq!(optimal_wait_time(1.0, &costs).unwrap(), 0.0);
    let all_catch = WaitingCosts {
        p_catch: 1.0,
        ..costs.clone()
    };
    assert_eq!(optimal_wait_time(80.0, &all_catch).unwrap(), 0.0);
}

#[test]
fn expected_value_matches_integration() {
    let costs = WaitingCosts::default();
    let WaitingCosts {
        cost_per_s: kappa,
        mean_delay_s: lambda,
        p_catch: p,
        opt_out_reward,
    } = costs.clone();

    for (offer, wait) in [(5.0, 0.0), (20.0, 1.5), (80.0, 7.0), (40.0, 25.0)] {
        // Simpson's rule over the reward time D in [0, wait].
        let n = 20_000;
        let h = wait / n as f64;
        let integrand = |d: f64| (offer - kappa * d) * (-d / lambda).exp() / lambda;
        let mut rewarded = 0.0;
        for i in 0..=n {
            let weight = if i == 0 || i == n {
                1.0
            } else if i % 2 == 1 {
                4.0
            } else {
                2.0
            };
            rewarded += weight * integrand(i as f64 * h);
        }
        rewarded *= h / 3.0;

        let gave_up = -kappa * wait + opt_out_reward;
        let survival = (-wait / lambda).exp();
        let numeric = (1.0 - p) * (rewarded + survival * gave_up) + p * gave_up;

        let closed = expected_value_of_waiting(wait, offer, &costs).unwrap();
        assert!(
            (closed - numeric).abs() < 1e-8,
            "{offer} µL, {wait} s: {closed} vs {numeric}"
        );
    }
}

#[test]
fn optimal_policy_rejects_bad_values() {
    let costs = WaitingCosts::default();
    assert!(optimal_wait_time(0.0, &costs)
        .unwrap_err()
        .to_string()
        .contains("offer"));
    assert!(expected_value_of_waiting(-1.0, 20.0, &costs)
        .unwrap_err()
        .to_string()
        .contains("-1"));
    let bad = WaitingCosts {
        mean_delay_s: 0.0,
        ..costs.clone()
    };
    assert!(optimal_wait_time(20.0, &bad)
        .unwrap_err()
        .to_string()
        .contains("mean delay"));
    let bad = WaitingCosts {
        p_catch: 2.0,
        ..costs
    };
    assert!(optimal_wait_time(20.0, &bad)
        .unwrap_err()
        .to_string()
        .contains("p_catch"));
}
