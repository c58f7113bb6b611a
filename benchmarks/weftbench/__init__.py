"""benchmarks/compare, in modules by concern; benchmarks/compare is the entry point."""
