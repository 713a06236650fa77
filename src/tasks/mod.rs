//! Task generators: the temporal-wagering environment, the kindergarten curriculum's
//! supervised tasks, block inference, and the 3-bit flip-flop.
