"""The register-blocked tile product under ``gemm.packed_matmul_into``, written in LLVM IR.

``tile_product(a, i, rows, panels, p, out, accumulate)`` computes, for ``rows`` rows of a starting at row i
and the p-th column panel of a packed b (see ``gemm.pack_panels``)::

    out[i:i + rows, p*width:(p + 1)*width] (+)= a[i:i + rows] @ b[:, p*width:(p + 1)*width]

In compiled code the whole tile (rows x ``PANEL_VECTORS`` vectors) is held in registers for the entire sum
over k: each k loads the panel row's vectors once, broadcasts a[r, k] for each row and issues one fused
multiply-add per (row, vector), and the tile is stored once at the end. numba's own loops cannot express
this: LLVM cannot prove that ``out`` does not alias the operands, so it keeps the tile in memory (the plain
loop ``gemm.loop_matmul_into`` runs (64, 512) @ (512, 2048) at 14 GFLOP/s, this at 134). Hence an
``@intrinsic`` that builds the loop with explicit vector types and the ``llvm.fma`` intrinsic. With
``NUMBA_DISABLE_JIT=1`` the plain NumPy version below runs instead.

On a machine with AVX-512, ``VECTOR_BYTES`` is 64 (one register) and ``MAX_ROWS`` 8: 8 x 2 accumulators plus
2 panel vectors and a broadcast fit its 32 vector registers. Elsewhere (AVX2: 16 registers of 32 bytes, or
when ``NUMBA_CPU_NAME`` asks for portable code) 32 and 4, so that the tile still fits; smaller tiles take
the batch's remainder (4, 2, 1 rows).

Shapes: a (m, k), panels (count, k, width), out (m, n) with n >= count * width.
"""

from llvmlite import ir
from llvmlite.binding import get_host_cpu_features
from numba import config, njit, types
from numba.extending import intrinsic, overload


def _wide_vectors():
    """Whether numba compiles for this machine's CPU and that CPU has AVX-512."""
    return config.CPU_NAME is None and bool(get_host_cpu_features().get("avx512f"))


VECTOR_BYTES = 64 if _wide_vectors() else 32
PANEL_VECTORS = 2
MAX_ROWS = 8 if VECTOR_BYTES == 64 else 4  # tiles have MAX_ROWS, then 4, 2 and 1 rows


@njit(cache=True, nogil=True)
def panel_width(itemsize):
    """Columns of one panel for elements of ``itemsize`` bytes (with 64-byte vectors 32 float32, 16 float64)."""
    return PANEL_VECTORS * VECTOR_BYTES // itemsize


def tile_product(a, i, rows, panels, p, out, accumulate):
    """out[i:i+rows, panel p's columns] = (or +=) a[i:i+rows] @ panel p. Compiled code uses the overload."""
    width = panels.shape[2]
    block = a[i:i + rows] @ panels[p]
    tile = out[i:i + rows, p * width:(p + 1) * width]
    if accumulate:
        tile += block
    else:
        tile[...] = block


def _make_tile_intrinsic(rows):
    """An intrinsic computing one tile of exactly ``rows`` rows; element offsets and strides are int64."""

    @intrinsic
    def tile(typingctx, a, a_start, a_row, a_col, panels, panel_start, out, out_start, out_row, k, accumulate):
        dtype = a.dtype
        if dtype not in (types.float32, types.float64):
            return None
        lanes = VECTOR_BYTES // (4 if dtype == types.float32 else 8)
        sig = types.void(a, a_start, a_row, a_col, panels, panel_start, out, out_start, out_row, k, accumulate)

        def codegen(context, builder, signature, args):
            (a_v, a_start_v, a_row_v, a_col_v, panels_v, panel_start_v, out_v, out_start_v, out_row_v, k_v,
             accumulate_v) = args
            scalar = context.get_value_type(dtype)
            vector = ir.VectorType(scalar, lanes)
            i64, i32 = ir.IntType(64), ir.IntType(32)
            a_data = context.make_array(signature.args[0])(context, builder, a_v).data
            p_data = context.make_array(signature.args[4])(context, builder, panels_v).data
            o_data = context.make_array(signature.args[6])(context, builder, out_v).data

            def element(data, index):
                return builder.gep(data, [index], inbounds=True, source_etype=scalar)

            def vector_at(data, index):
                return builder.bitcast(element(data, index), vector.as_pointer())

            fma_name = f"llvm.fma.v{lanes}{'f32' if dtype == types.float32 else 'f64'}"
            fma = builder.module.globals.get(fma_name) or ir.Function(
                builder.module, ir.FunctionType(vector, [vector] * 3), fma_name)
            out_at = [[builder.add(out_start_v, builder.add(builder.mul(out_row_v, i64(r)), i64(v * lanes)))
                       for v in range(PANEL_VECTORS)] for r in range(rows)]
            zero = ir.Constant(vector, [0.0] * lanes)
            start = [builder.select(accumulate_v, builder.load(vector_at(o_data, at), align=4), zero)
                     for row in out_at for at in row]
            a_rows = [builder.add(a_start_v, builder.mul(a_row_v, i64(r))) for r in range(rows)]
            entry = builder.block
            loop, done = builder.append_basic_block("tile.k"), builder.append_basic_block("tile.done")
            builder.cbranch(builder.icmp_signed(">", k_v, i64(0)), loop, done)

            builder.position_at_end(loop)  # for kk in range(k): tile += a[:, kk] (outer) panel[kk]
            kk = builder.phi(i64)
            acc = [builder.phi(vector) for _ in start]
            row_start = builder.add(panel_start_v, builder.mul(kk, i64(PANEL_VECTORS * lanes)))
            panel_row = [builder.load(vector_at(p_data, builder.add(row_start, i64(v * lanes))), align=4)
                         for v in range(PANEL_VECTORS)]
            # prefetch the same row of the next panel (past the last panel too: a prefetch never faults), so
            # that a panel not in L2 streams in while this one is used (float64 (64, 512) @ (512, 2048):
            # 47-49 -> 54-56 GFLOP/s, np.dot 57-59)
            ahead_at = builder.add(row_start, builder.mul(k_v, i64(PANEL_VECTORS * lanes)))
            ahead = builder.bitcast(builder.gep(p_data, [ahead_at], source_etype=scalar), ir.IntType(8).as_pointer())
            prefetch = builder.module.globals.get("llvm.prefetch.p0i8") or ir.Function(
                builder.module, ir.FunctionType(ir.VoidType(), [ir.IntType(8).as_pointer(), i32, i32, i32]),
                "llvm.prefetch.p0i8")
            for v in range(PANEL_VECTORS):
                builder.call(prefetch, [builder.gep(ahead, [i64(v * VECTOR_BYTES)]), i32(0), i32(2), i32(1)])
            undef = ir.Constant(vector, ir.Undefined)
            broadcast = ir.Constant(ir.VectorType(i32, lanes), [0] * lanes)
            a_k = builder.mul(kk, a_col_v)
            new = []
            for r in range(rows):
                value = builder.load(element(a_data, builder.add(a_rows[r], a_k)))
                splat = builder.shuffle_vector(builder.insert_element(undef, value, i32(0)), undef, broadcast)
                new += [builder.call(fma, [splat, panel_row[v], acc[r * PANEL_VECTORS + v]])
                        for v in range(PANEL_VECTORS)]
            kk_next = builder.add(kk, i64(1))
            kk.add_incoming(i64(0), entry)
            kk.add_incoming(kk_next, loop)
            for phi, first, updated in zip(acc, start, new):
                phi.add_incoming(first, entry)
                phi.add_incoming(updated, loop)
            builder.cbranch(builder.icmp_signed("<", kk_next, k_v), loop, done)

            builder.position_at_end(done)
            results = []
            for first, updated in zip(start, new):  # phis first: LLVM wants them at the top of the block
                results.append(builder.phi(vector))
                results[-1].add_incoming(first, entry)
                results[-1].add_incoming(updated, loop)
            for result, at in zip(results, (at for row in out_at for at in row)):
                builder.store(result, vector_at(o_data, at), align=4)
            return context.get_dummy_value()

        return sig, codegen

    return tile


_tile_max, _tile4, _tile2, _tile1 = (_make_tile_intrinsic(rows) for rows in (MAX_ROWS, 4, 2, 1))


@overload(tile_product, jit_options={"error_model": "numpy", "nogil": True})
def _tile_product_compiled(a, i, rows, panels, p, out, accumulate):
    def impl(a, i, rows, panels, p, out, accumulate):
        _, k, width = panels.shape
        a_row, a_col = a.strides[0] // a.itemsize, a.strides[1] // a.itemsize
        out_row = out.strides[0] // out.itemsize
        args = (a, i * a_row, a_row, a_col, panels, p * k * width, out, i * out_row + p * width, out_row, k,
                accumulate)
        if rows == MAX_ROWS:
            _tile_max(*args)
        elif rows == 4:
            _tile4(*args)
        elif rows == 2:
            _tile2(*args)
        else:
            _tile1(*args)
    return impl
