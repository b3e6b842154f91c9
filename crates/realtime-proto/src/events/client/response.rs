//! `response.*` client events.

use crate::ids::ResponseId;
use crate::response::ResponseParams;

/// `response.cancel`: stop a response in progress.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-client-events/response/cancel)
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResponseCancel {
    /// The response; absent: the one in progress in the default conversation.
    pub response_id: Option<ResponseId>,
}

/// `response.create`: ask the model to respond.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-client-events/response/create)
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResponseCreate {
    /// Overrides for this response.
    pub response: Option<Box<ResponseParams>>,
}
