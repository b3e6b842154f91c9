//! One module per subcommand.

pub(crate) mod decode;
pub(crate) mod encode;
pub(crate) mod mock;
pub(crate) mod replay;
