//! MCP server events (GA only).

use serde::{Deserialize, Serialize};

use crate::ids::{ItemId, ResponseId};
use crate::shared_str::SharedStr;

macro_rules! item_event {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[non_exhaustive]
        #[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
        pub struct $name {
            /// The `mcp_list_tools` item.
            pub item_id: ItemId,
        }

        impl $name {
            /// Builds the event.
            pub fn new(item_id: impl Into<ItemId>) -> Self {
                Self {
                    item_id: item_id.into(),
                }
            }
        }
    };
}

item_event!(
    /// `mcp_list_tools.in_progress`: listing an MCP server's tools began.
    ///
    /// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/mcp_list_tools/in_progress)
    McpListToolsInProgress
);
item_event!(
    /// `mcp_list_tools.completed`: listing an MCP server's tools finished.
    ///
    /// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/mcp_list_tools/completed)
    McpListToolsCompleted
);
item_event!(
    /// `mcp_list_tools.failed`: listing an MCP server's tools failed.
    ///
    /// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/mcp_list_tools/failed)
    McpListToolsFailed
);

/// `response.mcp_call_arguments.delta`: more of an MCP call's arguments.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/response/mcp_call_arguments/delta)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct ResponseMcpCallArgumentsDelta {
    /// The response.
    pub response_id: ResponseId,
    /// The `mcp_call` item.
    pub item_id: ItemId,
    /// The item's position in the response's output.
    #[serde(
        default = "crate::warning::missing::output_index",
        deserialize_with = "crate::warning::lenient"
    )]
    pub output_index: u32,
    /// The arguments delta.
    pub delta: SharedStr,
    /// Padding the server adds against side channels.
    #[serde(
        default,
        deserialize_with = "crate::warning::lenient_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub obfuscation: Option<String>,
}

impl ResponseMcpCallArgumentsDelta {
    /// Builds the event; `obfuscation` starts as `None`.
    pub fn new(
        response_id: impl Into<ResponseId>,
        item_id: impl Into<ItemId>,
        output_index: u32,
        delta: impl Into<SharedStr>,
    ) -> Self {
        Self {
            response_id: response_id.into(),
            item_id: item_id.into(),
            output_index,
            delta: delta.into(),
            obfuscation: None,
        }
    }
}

/// `response.mcp_call_arguments.done`: the final arguments of an MCP call.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/response/mcp_call_arguments/done)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct ResponseMcpCallArgumentsDone {
    /// The response.
    pub response_id: ResponseId,
    /// The `mcp_call` item.
    pub item_id: ItemId,
    /// The item's position in the response's output.
    #[serde(
        default = "crate::warning::missing::output_index",
        deserialize_with = "crate::warning::lenient"
    )]
    pub output_index: u32,
    /// The arguments, as JSON text.
    pub arguments: String,
}

impl ResponseMcpCallArgumentsDone {
    /// Builds the event.
    pub fn new(
        response_id: impl Into<ResponseId>,
        item_id: impl Into<ItemId>,
        output_index: u32,
        arguments: impl Into<String>,
    ) -> Self {
        Self {
            response_id: response_id.into(),
            item_id: item_id.into(),
            output_index,
            arguments: arguments.into(),
        }
    }
}

macro_rules! call_event {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[non_exhaustive]
        #[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
        pub struct $name {
            /// The item's position in the response's output.
            #[serde(default = "crate::warning::missing::output_index", deserialize_with = "crate::warning::lenient")]
            pub output_index: u32,
            /// The `mcp_call` item.
            pub item_id: ItemId,
        }

        impl $name {
            /// Builds the event.
            pub fn new(output_index: u32, item_id: impl Into<ItemId>) -> Self {
                Self {
                    output_index,
                    item_id: item_id.into(),
                }
            }
        }
    };
}

call_event!(
    /// `response.mcp_call.in_progress`: an MCP call started.
    ///
    /// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/response/mcp_call/in_progress)
    ResponseMcpCallInProgress
);
call_event!(
    /// `response.mcp_call.completed`: an MCP call succeeded.
    ///
    /// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/response/mcp_call/completed)
    ResponseMcpCallCompleted
);
call_event!(
    /// `response.mcp_call.failed`: an MCP call failed.
    ///
    /// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/response/mcp_call/failed)
    ResponseMcpCallFailed
);
