//! The pcapng writer: see the module documentation of [`crate::pcapng`].
