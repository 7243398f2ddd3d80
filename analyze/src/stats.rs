//! Totals and rollups per container, pod, process and interface.
