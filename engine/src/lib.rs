//! Runs a compiled plan over Arrow micro-batches: the executor, its steps, window and
//! stateful state, and one chain of decoder → executor → encoder. No I/O: no tokio, no
//! sockets, no files.
