//! The agency node's own records (being written).
