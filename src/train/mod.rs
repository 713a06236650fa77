//! The trainer: exact backpropagation through time for LSTM, GRU and tanh-RNN cells and the
//! two-region network, Adam, losses, and the curricula.
