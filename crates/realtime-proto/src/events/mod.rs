//! Wire events: [`client`] commands and [`server`] events.

pub mod client;
pub mod server;
