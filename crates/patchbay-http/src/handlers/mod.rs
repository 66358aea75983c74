//! Request handlers: parse, one call into `ProfileService`, render.

pub(crate) mod audit;
pub(crate) mod meta;
pub(crate) mod probes;
pub(crate) mod profiles;
