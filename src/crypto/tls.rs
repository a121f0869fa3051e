//! rustls configurations for the hub (server, client certificates required) and agency nodes.
//! (being written)
