"""What every runtime shares about a call, below both :mod:`wasmtool.run` and :mod:`wasmtool.wit`:
its errors (:mod:`wasmtool.calls.errors`, WT720-WT769)."""
