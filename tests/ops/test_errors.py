"""Bad input gives an error that names the op and the offending shapes or dtypes, never a bare NumPy one."""

import numpy as np
import pytest

import microseq as ms


def t(*shape, dtype=np.float64, requires_grad=False):
    return ms.Tensor(np.ones(shape, dtype=dtype), requires_grad=requires_grad)


CASES = [
    # (id, call, exception type, message pattern)
    ("matmul_align", lambda: ms.matmul(t(3, 4), t(5, 2)),
     ms.ShapeError, "matmul: shapes (3, 4) and (5, 2) do not align"),
    ("matmul_vectors", lambda: t(3) @ t(4), ms.ShapeError, "matmul: shapes (3,) and (4,) do not align"),
    ("matmul_batch", lambda: t(2, 3, 4) @ t(3, 4, 2),
     ms.ShapeError, "matmul: batch dimensions of (2, 3, 4) and (3, 4, 2)"),
    ("matmul_scalar", lambda: ms.matmul(t(), t(3)), RuntimeError, "matmul: both operands need at least 1 dimension"),
    ("add_broadcast", lambda: t(2, 3) + t(4), ms.ShapeError, "add: shapes (2, 3) and (4,) do not broadcast"),
    ("mul_broadcast", lambda: t(2, 3) * t(2, 1, 4, 5),
     ms.ShapeError, "mul: shapes (2, 3) and (2, 1, 4, 5) do not broadcast"),
    ("div_broadcast", lambda: 1.0 / t(3) / t(2), ms.ShapeError, "div: shapes (3,) and (2,) do not broadcast"),
    ("where_broadcast", lambda: ms.where(np.ones(3, bool), t(2), t(3)),
     ms.ShapeError, "where: shapes (3,) (condition), (2,) and (3,)"),
    ("where_condition_dtype", lambda: ms.where(np.ones(3), t(3), t(3)),
     TypeError, "where: the condition must be a boolean"),
    ("masked_fill_shape", lambda: t(2, 3).masked_fill(np.ones((3, 3), bool), 0.0),
     ms.ShapeError, "masked_fill: mask of shape (3, 3) does not broadcast to (2, 3)"),
    ("sum_axis", lambda: t(2, 3).sum(axis=2),
     IndexError, "sum: axis 2 is out of range for a tensor with 2 dimensions"),
    ("mean_axis", lambda: ms.mean(t(2, 3), axis=(0, -3)), IndexError, "mean: axis -3 is out of range"),
    ("max_repeated_axis", lambda: ms.max(t(2, 3), axis=(1, -1)), RuntimeError, "max: repeated axis"),
    ("max_empty", lambda: ms.max(t(0, 3), axis=0), ValueError, "max: cannot reduce over an empty axis (shape (0, 3)"),
    ("softmax_axis", lambda: ms.softmax(t(2, 3), axis=2), IndexError, "softmax: axis 2 is out of range"),
    ("transpose_axes", lambda: t(2, 3).transpose(0, 3),
     IndexError, "transpose: axes (0, 3) are not a permutation of the 2 axes of shape (2, 3)"),
    ("transpose_negative", lambda: ms.transpose(t(2, 3), (0, -3)), IndexError, "transpose: axes (0, -3)"),
    ("reshape", lambda: t(2, 3).reshape(4, 2),
     ms.ShapeError, "reshape: cannot reshape a tensor of shape (2, 3) (6 elements) into (4, 2)"),
    ("transpose_repeated", lambda: ms.transpose(t(2, 3), (1, 1)), RuntimeError, "transpose: axes (1, 1) are not a"),
    ("transpose_count", lambda: ms.transpose(t(2, 3), (1,)), RuntimeError, "transpose: axes (1,) are not a"),
    ("squeeze_axis", lambda: t(2, 3).squeeze(2), IndexError, "squeeze: axis 2 is out of range"),
    ("unsqueeze_axis", lambda: t(2, 3).unsqueeze(4), IndexError, "unsqueeze: axis 4 is out of range"),
    ("int_negative_power", lambda: t(3, dtype=np.int64) ** -2,
     RuntimeError, "pow: integers cannot be raised to negative powers (base dtype int64); use a float base"),
    ("getitem", lambda: t(2, 3)[5], IndexError, ("getitem: ", "(tensor of shape (2, 3))")),
    ("concatenate", lambda: ms.cat([t(2, 3), t(2, 4)], axis=0),
     ms.ShapeError, "concatenate: shapes (2, 3), (2, 4) cannot be joined along axis 0"),
    ("stack", lambda: ms.stack([t(2, 3), t(3, 2)]),
     ms.ShapeError, "stack: all tensors must have the same shape, got (2, 3), (3, 2)"),
    ("split_sections", lambda: ms.split(t(5), [2, 2]),
     ms.ShapeError, "split: sections [2, 2] add up to 4, but axis 0 has length 5"),
    ("chunk_count", lambda: ms.chunk(t(5), 0), ValueError, "chunk: number of chunks must be positive"),
    ("clip_tensor_bound", lambda: ms.clip(t(3), t(3), 1.0), TypeError, "clip: min and max must be numbers"),
    ("clip_no_bound", lambda: ms.clip(t(3)), ValueError, "clip: at least one of min and max"),
    ("ce_target_range", lambda: ms.cross_entropy(t(2, 3), np.array([0, 3])),
     IndexError, "cross_entropy: target 3 is out of range for 3 classes"),
    ("ce_negative_target", lambda: ms.cross_entropy(t(2, 3), np.array([0, -1])),
     IndexError, "cross_entropy: target -1 is out of range"),
    ("ce_target_shape", lambda: ms.cross_entropy(t(2, 3, 4), np.zeros((2, 3), np.int64)),
     ms.ShapeError, "cross_entropy: scores of shape (2, 3, 4) (class axis 1) need targets of shape (2, 4), got (2, 3)"),
    ("ce_target_dtype", lambda: ms.cross_entropy(t(2, 3), np.zeros(2)),
     TypeError, "cross_entropy: targets must be integer class indices, got dtype float64"),
    ("ce_weight_shape", lambda: ms.cross_entropy(t(2, 3), np.zeros(2, np.int64), weight=np.ones(2)),
     ms.ShapeError, "cross_entropy: weight must have shape (3,), got (2,)"),
    ("ce_reduction", lambda: ms.cross_entropy(t(2, 3), np.zeros(2, np.int64), reduction="avg"),
     ValueError, "cross_entropy: reduction must be one of"),
    ("nll_target_range", lambda: ms.nll_loss(t(2, 3), np.array([7, 0])),
     IndexError, "nll_loss: target 7 is out of range"),
    ("mse_shapes", lambda: ms.mse_loss(t(2, 3), t(3)),
     ms.ShapeError, "mse_loss: input of shape (2, 3) and target of shape (3,) differ"),
    ("bce_shapes", lambda: ms.binary_cross_entropy_with_logits(t(2), t(3)),
     ValueError, "binary_cross_entropy_with_logits: logits of shape (2,) and target of shape (3,) differ"),
    ("bce_weight_shape", lambda: ms.binary_cross_entropy_with_logits(t(2, 3), t(2, 3), weight=np.ones(4)),
     ms.ShapeError, "binary_cross_entropy_with_logits: weight of shape (4,) does not broadcast to the logits' shape (2, 3)"),
    ("bce_pos_weight_shape", lambda: ms.binary_cross_entropy_with_logits(t(3), t(3), pos_weight=np.ones((2, 3))),
     ms.ShapeError, "binary_cross_entropy_with_logits: pos_weight of shape (2, 3) does not broadcast"),
    ("dropout_p", lambda: ms.dropout(t(3), 1.5), ValueError, "dropout: p must be in [0, 1], got 1.5"),
    ("requires_grad_int", lambda: ms.Tensor(np.arange(3), requires_grad=True),
     TypeError, "only floating-point tensors can require grad, got dtype int64"),
    ("requires_grad_int_method", lambda: ms.Tensor(np.arange(3)).requires_grad_(),
     TypeError, "requires_grad_: dtype int64 cannot require grad"),
    ("mean_of_ints", lambda: ms.mean(ms.Tensor(np.arange(3))),
     TypeError, "mean: expected a floating-point tensor, got dtype int64"),
    ("backward_non_scalar", lambda: (t(2, requires_grad=True) * 2).backward(),
     RuntimeError, "backward: output has shape (2,); pass grad= of that shape"),
    ("backward_grad_shape", lambda: (t(2, requires_grad=True) * 2).backward(np.ones(3)),
     RuntimeError, "backward: grad has shape (3,), expected the output's (2,)"),
    ("backward_no_grad", lambda: t(2).sum().backward(), RuntimeError, "backward: this tensor does not require grad"),
    ("in_place_while_recording", lambda: t(2, requires_grad=True).add_(1.0),
     RuntimeError, "add_: in-place change of a tensor that requires grad while recording"),
    ("item", lambda: t(2).item(), ValueError, "item: only one-element tensors convert to a number, got shape (2,)"),
]


@pytest.mark.parametrize("call, error, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_error_names_the_op_and_the_shapes(call, error, message):
    """``message`` is a literal piece of the error text (or a tuple of pieces that must all appear)."""
    with pytest.raises(error) as info:
        call()
    for piece in (message,) if isinstance(message, str) else message:
        assert piece in str(info.value)


def test_a_shape_error_is_a_runtime_error_as_in_pytorch_and_still_a_value_error():
    for error in (RuntimeError, ValueError, ms.ShapeError):
        with pytest.raises(error, match=r"^add: shapes \(2, 3\) and \(4,\) do not broadcast$"):
            t(2, 3) + t(4)


# (id, microseq call, the same call in PyTorch given ``torch``): PyTorch raises a RuntimeError for each
SHAPE_ERRORS = [
    ("add", lambda: t(2, 3) + t(4), lambda torch: torch.ones(2, 3) + torch.ones(4)),
    ("maximum", lambda: ms.maximum(t(2), t(3)), lambda torch: torch.maximum(torch.ones(2), torch.ones(3))),
    ("lerp", lambda: ms.lerp(t(2), t(3), 0.5), lambda torch: torch.lerp(torch.ones(2), torch.ones(3), 0.5)),
    ("where", lambda: ms.where(np.ones(3, bool), t(2), t(3)),
     lambda torch: torch.where(torch.ones(3, dtype=torch.bool), torch.ones(2), torch.ones(3))),
    ("masked_fill", lambda: t(2, 3).masked_fill(np.ones((3, 3), bool), 0.0),
     lambda torch: torch.ones(2, 3).masked_fill(torch.ones(3, 3, dtype=torch.bool), 0.0)),
    ("broadcast_to", lambda: ms.broadcast_to(t(3, 1), (2, 4)),
     lambda torch: torch.broadcast_to(torch.ones(3, 1), (2, 4))),
    ("copy_", lambda: t(2, 3).copy_(t(4)), lambda torch: torch.ones(2, 3).copy_(torch.ones(4))),
    ("reshape", lambda: t(2, 3).reshape(4, 2), lambda torch: torch.ones(2, 3).reshape(4, 2)),
    ("cat", lambda: ms.cat([t(2, 3), t(2, 4)]), lambda torch: torch.cat([torch.ones(2, 3), torch.ones(2, 4)])),
    ("stack", lambda: ms.stack([t(2, 3), t(3, 2)]), lambda torch: torch.stack([torch.ones(2, 3), torch.ones(3, 2)])),
    ("matmul", lambda: t(3, 4) @ t(5, 2), lambda torch: torch.ones(3, 4) @ torch.ones(5, 2)),
    ("einsum", lambda: ms.einsum("...i,...i->...", t(2, 3), t(4, 3)),
     lambda torch: torch.einsum("...i,...i->...", torch.ones(2, 3), torch.ones(4, 3))),
    ("take_along_dim", lambda: ms.take_along_dim(t(2, 3), np.zeros((3, 1), np.int64), 1),
     lambda torch: torch.take_along_dim(torch.ones(2, 3), torch.zeros(3, 1, dtype=torch.long), 1)),
    ("cosine_similarity", lambda: ms.cosine_similarity(t(2, 3), t(4)),
     lambda torch: torch.nn.functional.cosine_similarity(torch.ones(2, 3), torch.ones(4))),
    ("cross_entropy_weight", lambda: ms.cross_entropy(t(2, 3), np.zeros(2, np.int64), weight=np.ones(2)),
     lambda torch: torch.nn.functional.cross_entropy(torch.ones(2, 3), torch.zeros(2, dtype=torch.long),
                                                     weight=torch.ones(2))),
]


@pytest.mark.parametrize("call, torch_call", [c[1:] for c in SHAPE_ERRORS], ids=[c[0] for c in SHAPE_ERRORS])
def test_shape_errors_have_pytorchs_type(call, torch_call):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError):
        torch_call(torch)
    with pytest.raises(ms.ShapeError) as info:
        call()
    assert isinstance(info.value, RuntimeError) and "\n" not in str(info.value)


@pytest.mark.parametrize("make", [ms.Tensor, ms.tensor, ms.as_tensor], ids=["Tensor", "tensor", "as_tensor"])
@pytest.mark.parametrize("data, given", [
    (["a", "b"], "got list ['a', 'b'] (NumPy dtype <U1)"),
    (None, "got NoneType None (NumPy dtype object)"),
    ({"a": 1.0}, "got dict {'a': 1.0} (NumPy dtype object)"),
    (1 + 2j, "got complex (1+2j) (NumPy dtype complex128)"),
    (np.array([1.0, 2j]), "(NumPy dtype complex128)"),
    (np.array([1.0, "a"], dtype=object), "got ndarray array([1.0, '"),
    (b"raw", "got bytes b'raw' (NumPy dtype |S3)"),
])
def test_construction_refuses_what_is_not_real_numbers(make, data, given):
    with pytest.raises(TypeError) as info:
        make(data)
    message = str(info.value)
    assert message.startswith("Tensor: expected real numbers (bool, int or float), got ") and given in message
    assert "\n" not in message


@pytest.mark.parametrize("data", [None, "1.5"])
def test_a_requested_dtype_does_not_turn_a_refused_value_into_a_number(data):
    with pytest.raises(TypeError, match="expected real numbers"):
        ms.tensor(data, dtype=np.float32)  # NumPy alone would give nan and 1.5


def test_a_complex_dtype_is_refused():
    with pytest.raises(TypeError, match="dtype must be a bool, int or float type, got complex64"):
        ms.tensor([1.0], dtype=np.complex64)


@pytest.mark.parametrize("data, dtype", [([1.5, 2.0], np.float32), (3, np.int64), ([True], np.bool_),
                                         (np.arange(3, dtype=np.uint8), np.uint8), (1.0, np.float32),
                                         (np.float64(1.0), np.float64)])  # a NumPy scalar keeps it, as torch
def test_real_numbers_are_still_accepted_with_their_usual_dtype(data, dtype):
    assert ms.tensor(data).dtype == dtype
