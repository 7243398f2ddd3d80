//! Bidirectional flows (conversations) with their owners.
