//! The names of the functions veloFlux adds to SQL, in one table: the passes recognise calls
//! to them by these names (lowercase, compared with a call's lowercased name), and
//! `window_bounds` registers the window bounds with DataFusion under them.

/// The function giving the start of a row's window, in epoch milliseconds.
pub(crate) const WINDOW_START: &str = "window_start";
/// The function giving the end of a row's window, in epoch milliseconds.
pub(crate) const WINDOW_END: &str = "window_end";

/// The stateful functions, computed row by row in arrival order before the rest of the
/// statement; DataFusion never sees a call to one.
pub(crate) const STATEFUL_FUNCTIONS: [&str; 4] = ["lag", "latest", "changed_col", "had_changed"];
