//! The PKI: a CA, the hub's server certificate and agency client certificates (rcgen).
//! (being written)
