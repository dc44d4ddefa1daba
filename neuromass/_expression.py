"""Arithmetic expressions of state variables, e.g. `"y1 - y2"`: the observables of
node models (`AbstractNode.observable`) and of projection monitors."""

import ast


_OPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}


def parse_expression(text: str):
    """A safe arithmetic expression of state variables, e.g. `"y1 - y2"` or
    `"0.8*x1 + 0.2*x2"`: returns (evaluator, variable names)."""
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as e:
        raise ValueError(f"Cannot parse the observable {text!r}: {e.msg}.") from None
    names = []

    def check(node):
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            check(node.left)
            check(node.right)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            check(node.operand)
        elif isinstance(node, ast.Name):
            if node.id not in names:
                names.append(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            pass
        else:
            raise ValueError(
                f"The observable {text!r} may only combine state variables and "
                "numbers with + - * / ** (got "
                f"{ast.unparse(node)!r}); pass a callable for anything else."
            )

    check(tree)

    def evaluate(y, node=tree):
        if isinstance(node, ast.BinOp):
            return _OPS[type(node.op)](evaluate(y, node.left), evaluate(y, node.right))
        if isinstance(node, ast.UnaryOp):
            v = evaluate(y, node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.Name):
            return y[node.id]
        return node.value

    return evaluate, tuple(names)
