//! Behaviour of a network on the wagering task: trial records, wait-time curves,
//! sensitivities and regressions.
