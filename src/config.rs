//! PLACEHOLDER: being written. See the interface in the helper prompt.
