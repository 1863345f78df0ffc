//! What veloFlux's tests and benches share: a server launcher on free ports, a REST client,
//! an in-process or external MQTT broker, and wait-until helpers.
