import type { GraphProto, NodeProto, TensorProto } from "./proto.js";

/** Every graph in a model: the main one and each subgraph held by If/Loop/Scan attributes, depth first. */
export function* allGraphs(graph: GraphProto): Generator<GraphProto> {
  yield graph;
  for (const n of graph.node ?? []) {
    for (const a of n.attribute ?? []) {
      if (a.g) yield* allGraphs(a.g);
      for (const g of a.graphs ?? []) yield* allGraphs(g);
    }
  }
}

/** Every stored tensor: initializers and tensors in node attributes (Constant values), subgraphs included. */
export function* allTensors(graph: GraphProto): Generator<{ tensor: TensorProto; where: string }> {
  for (const g of allGraphs(graph)) {
    for (const t of g.initializer ?? []) yield { tensor: t, where: `initializer "${t.name ?? ""}"` };
    for (const s of g.sparseInitializer ?? []) {
      if (s.values) yield { tensor: s.values, where: `sparse initializer "${s.values.name ?? ""}"` };
    }
    for (const n of g.node ?? []) {
      for (const a of n.attribute ?? []) {
        const where = `attribute "${a.name ?? ""}" of ${n.opType ?? "?"} node "${n.name ?? ""}"`;
        if (a.t) yield { tensor: a.t, where };
        for (const t of a.tensors ?? []) yield { tensor: t, where };
      }
    }
  }
}

/** Names of the nodes that consume each tensor in one graph (not its subgraphs). */
export function consumersOf(graph: GraphProto): Map<string, NodeProto[]> {
  const map = new Map<string, NodeProto[]>();
  for (const n of graph.node ?? []) {
    for (const i of n.input ?? []) {
      if (!i) continue;
      const list = map.get(i) ?? [];
      list.push(n);
      map.set(i, list);
    }
  }
  return map;
}
