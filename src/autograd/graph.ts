/**
 * The autograd graph: in training mode every layer call and tensor op that has a recorded input
 * records one node — what it was computed from, and a backward function over whole arrays
 * (micrograd's clarity at tfjs-layers' granularity: whole-layer ops, never scalars). A node's
 * saved activations (layers keep theirs in the arena) are released once its backward ran.
 *
 * `backward()` walks the nodes reachable from a tensor once, in reverse topological order,
 * adding the gradients of a tensor used several times (fan-out); a gradient that never arrives
 * counts as zero, as in PyTorch. Parameters collect their gradients inside the layers (the
 * same kernels as the explicit `layer.backward(...)` calls), so both paths give the same bits.
 */
import { Tensor } from '../tensor.js';

/** A gradient for one tensor (same length), or null for zero. */
export type Grad = Float32Array | null;

export interface Node {
  /** What made it ('LSTM.forward', 'cat', …): named in errors. */
  readonly name: string;
  /** The tensors it was computed from, null where an input is not differentiable (ids, lengths). */
  readonly inputs: readonly (Tensor | null)[];
  /** Number of output tensors. */
  readonly outputs: number;
  /**
   * Gradients w.r.t. the outputs (null = zero) → gradients w.r.t. the inputs. `needs[i]` says
   * whether input i wants one (a node may skip computing the others and return null).
   */
  backward(grads: readonly Grad[], needs: readonly boolean[]): Grad[];
  /** Frees what the node saved (called once, after its backward or when its graph is dropped). */
  release?(): void;
}

interface Link {
  node: Node;
  index: number;
}

const producers = new WeakMap<Tensor, Link>();
/** Nodes whose backward ran (a second backward through them is an error, as in PyTorch). */
const finished = new WeakSet<Node>();
let enabled = true;
let steps = 0;

/** Whether ops record right now (false inside noGrad()). */
export function gradEnabled(): boolean {
  return enabled;
}

/** Runs `fn` without recording anything (PyTorch's torch.no_grad()). */
export function noGrad<T>(fn: () => T): T {
  const prev = enabled;
  enabled = false;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}

/** Whether `t` was computed by a recorded node (gradients can flow back through it). */
export function isRecorded(t: unknown): boolean {
  return t instanceof Tensor && producers.has(t);
}

/** Whether any of the tensors is recorded (an op on them records too). */
export function anyRecorded(ts: readonly unknown[]): boolean {
  if (!enabled) return false;
  for (const t of ts) if (isRecorded(t)) return true;
  return false;
}

/** Records `node` as the producer of `outputs` (in order). */
export function record(node: Node, outputs: readonly (Tensor | null)[]): void {
  outputs.forEach((t, index) => {
    if (t) producers.set(t, { node, index });
  });
}

/** Backward passes run so far (layers release records of abandoned graphs by it). */
export function backwardSteps(): number {
  return steps;
}

/** Counts an explicit layer.backward() call as a backward pass (see backwardSteps). */
export function noteBackward(): void {
  steps++;
}

/** A tensor with the same values and no history (PyTorch's detach(); shares the data). */
export function detach(t: Tensor): Tensor {
  return new Tensor(t.data, t.shape);
}

/**
 * Backpropagates `grad` (d loss / d root, root's length) through everything that produced
 * `root`. Parameter gradients are added to their modules' gradients(); the graph's saved
 * activations are released.
 */
export function backward(root: Tensor, grad: Float32Array, fn = 'backward'): void {
  const start = producers.get(root);
  if (!start) {
    throw new Error(
      `${fn}: this tensor has no recorded history: compute it in training mode (model.train(), or ` +
        '{ training: true } on the layer call) from recorded tensors',
    );
  }
  if (grad.length !== root.size) {
    throw new RangeError(`${fn}: gradient must hold ${root.size} values (shape ${JSON.stringify(root.shape)}), got ${grad.length}`);
  }
  const order = topological(start.node);
  const pending = new Map<Node, Grad[]>();
  const slots = (n: Node): Grad[] => {
    let s = pending.get(n);
    if (!s) pending.set(n, (s = new Array<Grad>(n.outputs).fill(null)));
    return s;
  };
  slots(start.node)[start.index] = grad;
  try {
    for (const node of order) {
      if (finished.has(node)) {
        throw new Error(
          `${fn}: trying to backward through '${node.name}' a second time: its saved activations were freed by the first ` +
            'backward (run the forward again)',
        );
      }
    }
    for (const node of order) {
      const grads = slots(node);
      pending.delete(node);
      const needs = node.inputs.map((t) => t !== null && producers.has(t));
      // A node runs when a gradient reached it: layers add into their parameters even when no input needs one.
      const inGrads = grads.some((g) => g !== null) ? node.backward(grads, needs) : [];
      finished.add(node);
      node.release?.();
      node.inputs.forEach((t, i) => {
        const g = inGrads[i];
        if (!t || !g || !needs[i]) return;
        const link = producers.get(t) as Link;
        const s = slots(link.node);
        const have = s[link.index];
        s[link.index] = have ? addArrays(have, g) : g;
      });
    }
  } finally {
    steps++;
  }
}

/** Nodes reachable from `root`, each after every node that consumes one of its outputs. */
function topological(root: Node): Node[] {
  const post: Node[] = [];
  const seen = new Set<Node>([root]);
  const stack: Array<{ node: Node; next: number }> = [{ node: root, next: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top.next < top.node.inputs.length) {
      const t = top.node.inputs[top.next++];
      const link = t ? producers.get(t) : undefined;
      if (link && !seen.has(link.node)) {
        seen.add(link.node);
        stack.push({ node: link.node, next: 0 });
      }
    } else {
      post.push(top.node);
      stack.pop();
    }
  }
  return post.reverse();
}

/** a + b into a new array (fan-out: neither operand is modified; either may be aliased elsewhere). */
function addArrays(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] + b[i];
  return out;
}
