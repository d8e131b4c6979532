"""A loop rewrite of PyTensor's, made deterministic, for DL's mode.

PyTensor's `scan_push_out_add` (pytensor/scan/rewriting/push_out.py, BSD
licence) moves `h_t = h_{t-1} + dot(a_t, b_t)` out of a loop as one large
product: the weight gradients of every recurrent model take this form.  It
picks its candidates by iterating over the loop body's `apply_nodes`, a set
ordered by object ids, so when a body holds several candidates (USE, MUSE,
EUSE and SSE gradients do) each process pushes them out in a different order.
The graphs compute the same values, but their Numba cache keys differ: every
new process compiled these models' training functions again (a minute or two
each, warm cache or not) and added a copy to the cache folder.

`dl_mode` excludes PyTensor's rewrite and runs this copy in its place (right
after the loop rewrites it belonged to).  The one change is marked "DL:".
"""
from pytensor.graph.rewriting.basic import node_rewriter
from pytensor.scan.op import Scan
from pytensor.scan.rewriting.push_out import (Dot, Elemwise, ScanArgs, dot, get_outer_ndim,
                                               inner_sitsot_only_last_step_used, ps, pt,
                                               push_out_inner_vars, shape)

# PyTensor's name and position (scan_eqopt1 holds it, at 0.05 in optdb)
REPLACES = "scan_push_out_add"
POSITION = 0.0501


@node_rewriter([Scan])
def scan_push_out_add_in_order(fgraph, node):
    """PyTensor's `scan_push_out_add`, reading the loop body's nodes in graph order."""
    # Don't perform the optimization on `as_while` `Scan`s. Because these
    # `Scan`s don't run for a predetermined number of steps, handling them is
    # more complicated and this optimization doesn't support it at the moment.
    op = node.op
    if op.info.as_while:
        return False

    # apply_ancestors(args.inner_outputs)

    add_of_dot_nodes = [
        n
        for n in op.fgraph.toposort()  # DL: was the set op.fgraph.apply_nodes
        if (
            # We have an Add
            isinstance(n.op, Elemwise)
            and isinstance(n.op.scalar_op, ps.Add)
            and any(
                (
                    # With a Dot input that's only used in the Add
                    n_inp.owner is not None
                    and isinstance(n_inp.owner.op, Dot)
                    and len(op.fgraph.clients[n_inp]) == 1
                )
                for n_inp in n.inputs
            )
        )
    ]

    if not add_of_dot_nodes:
        return False

    # Use `ScanArgs` to parse the inputs and outputs of scan for ease of access
    args = ScanArgs(
        node.inputs,
        node.outputs,
        op.inner_inputs,
        op.inner_outputs,
        op.info,
        clone=False,
    )

    for nd in add_of_dot_nodes:
        if (
            nd.out in args.inner_out_sit_sot
            # FIXME: This function doesn't handle `sitsot_out[1:][-1]` pattern
            and inner_sitsot_only_last_step_used(fgraph, nd.out, args)
        ):
            # Ensure that one of the input to the add is the output of
            # the add from a previous iteration of the inner function
            sitsot_idx = args.inner_out_sit_sot.index(nd.out)
            if args.inner_in_sit_sot[sitsot_idx] in nd.inputs:
                sitsot_in_idx = nd.inputs.index(args.inner_in_sit_sot[sitsot_idx])

                # 0 if sitsot_in_idx==1, 1 if sitsot_in_idx==0
                dot_in_idx = 1 - sitsot_in_idx
                dot_input = nd.inputs[dot_in_idx]
                assert dot_input.owner is not None and isinstance(
                    dot_input.owner.op, Dot
                )

                if (
                    get_outer_ndim(dot_input.owner.inputs[0], args) == 3
                    and get_outer_ndim(dot_input.owner.inputs[1], args) == 3
                ):
                    # The optimization can be be applied in this case.

                    # Move out of scan the two inputs to the Dot and
                    # perform a dot outside of scan on these two inputs
                    inner_dot_inputs = nd.inputs[dot_in_idx].owner.inputs
                    (
                        outer_dot_inputs,
                        new_scan_args,
                        replacements,
                    ) = push_out_inner_vars(fgraph, inner_dot_inputs, node, args)

                    # Collapse some of the dimensions of the tensors
                    # so that they become matrices. This is because a
                    # dot is usually faster on two large matrices than
                    # a bunch of small ones
                    outer_dot_inputs[0] = pt.flatten(
                        outer_dot_inputs[0].dimshuffle(1, 0, 2), ndim=2
                    )

                    shape_input1 = shape(outer_dot_inputs[1])
                    outer_dot_inputs[1] = outer_dot_inputs[1].reshape(
                        (shape_input1[0] * shape_input1[1], shape_input1[2])
                    )

                    # Perform the dot on the newly obtained matrices and
                    # add the initial value
                    outer_dot_output = dot(*outer_dot_inputs)
                    init_value = new_scan_args.outer_in_sit_sot[sitsot_idx][0]
                    replacement = outer_dot_output + init_value

                    # Alter the outer graph to use the output of the
                    # external Dot instead of the output of scan
                    # Modify the outer graph to add the outer Dot
                    outer_sitsot = new_scan_args.outer_out_sit_sot[sitsot_idx]
                    # TODO: If we fix the FIXME above, we have to make sure we replace the last subtensor, not the immediate one
                    subtensor_node = fgraph.clients[outer_sitsot][0][0]
                    outer_sitsot_last_step = subtensor_node.outputs[0]

                    replacements[outer_sitsot_last_step] = replacement
                    return replacements

    return False
