//! REST API tests over a real router and a temporary data directory.
