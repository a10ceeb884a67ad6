namespace VethXdp.Reports.Cfg;

/// <summary>A layered (Sugiyama-style) drawing of a <see cref="ControlFlowGraph"/>: each function is a cluster, laid out
/// on its own and placed left to right; calls are curves between clusters.</summary>
/// <remarks>
/// Per function: a depth-first search from the entry marks back edges (loops); blocks are ranked by the longest path
/// from the entry over the other edges; edges that span several ranks get a dummy node per rank between; a few
/// barycentre sweeps order each rank to reduce crossings (the best order seen is kept); positions come from sweeps
/// that pull every node towards the mean of its neighbours in the rank above or below, each rank solved exactly
/// for the minimum separations by pool-adjacent-violators; back edges run in lanes right of the ranks they span.
/// Boxes are sized to their text with monospace metrics, so no text measurement is needed.
/// </remarks>
public sealed class CfgLayout
{
    private CfgLayout(ControlFlowGraph graph, CfgLayoutOptions options, LayoutNode[] nodes, List<LayoutEdge> edges, List<LayoutCluster> clusters, double width, double height)
    {
        Graph = graph;
        Options = options;
        Nodes = nodes;
        Edges = edges;
        Clusters = clusters;
        Width = width;
        Height = height;
    }

    /// <summary>The graph.</summary>
    public ControlFlowGraph Graph { get; }

    /// <summary>The options it was laid out with.</summary>
    public CfgLayoutOptions Options { get; }

    /// <summary>The boxes, by block index.</summary>
    public IReadOnlyList<LayoutNode> Nodes { get; }

    /// <summary>The edges, in the graph's order.</summary>
    public IReadOnlyList<LayoutEdge> Edges { get; }

    /// <summary>The functions' frames, in the graph's order.</summary>
    public IReadOnlyList<LayoutCluster> Clusters { get; }

    /// <summary>The picture's width.</summary>
    public double Width { get; }

    /// <summary>The picture's height.</summary>
    public double Height { get; }

    /// <summary>Lays out <paramref name="graph"/>.</summary>
    public static CfgLayout Compute(ControlFlowGraph graph, CfgLayoutOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        options ??= CfgLayoutOptions.Default;
        var nodes = new LayoutNode[graph.Blocks.Count];
        var edges = new LayoutEdge?[graph.Edges.Count];
        var clusters = new List<LayoutCluster>();
        double x = options.Margin;
        double height = 0;
        foreach (var f in graph.Functions)
        {
            var fl = new FunctionLayout(graph, f, options);
            fl.Run();
            double ox = x + options.ClusterPadding;
            double oy = options.Margin + options.ClusterTitle + options.ClusterPadding;
            fl.Emit(ox, oy, nodes, edges);
            double w = fl.Width + (2 * options.ClusterPadding);
            double h = fl.Height + options.ClusterTitle + (2 * options.ClusterPadding);
            clusters.Add(new LayoutCluster(f.Index, f.Name, x, options.Margin, w, h));
            x += w + options.ClusterGap;
            height = Math.Max(height, h);
        }

        // Calls, and any edge between functions (only a malformed program falls from one function into the next).
        for (int i = 0; i < graph.Edges.Count; i++)
        {
            edges[i] ??= RouteCall(graph.Edges[i], nodes, options);
        }

        double width = graph.Functions.Count == 0 ? 2 * options.Margin : x - options.ClusterGap + options.Margin;
        var routed = new List<LayoutEdge>(edges.Length);
        foreach (var e in edges)
        {
            routed.Add(e ?? throw new InvalidOperationException("an edge was not routed"));
        }

        return new CfgLayout(graph, options, nodes, routed, clusters, width, height + (2 * options.Margin));
    }

    /// <summary>True when no two boxes overlap (they may not even touch).</summary>
    public bool BoxesOverlap()
    {
        for (int i = 0; i < Nodes.Count; i++)
        {
            for (int j = i + 1; j < Nodes.Count; j++)
            {
                var a = Nodes[i];
                var b = Nodes[j];
                if (a.X < b.Right && b.X < a.Right && a.Y < b.Bottom && b.Y < a.Bottom)
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static LayoutEdge RouteCall(CfgEdge e, LayoutNode[] nodes, CfgLayoutOptions o)
    {
        var u = nodes[e.From];
        var v = nodes[e.To];
        double y0 = u.Y + (u.Height / 2);
        for (int i = 0; i < u.Lines.Count; i++)
        {
            if (!u.Lines[i].IsSource && u.Lines[i].Slot == e.Slot)
            {
                y0 = u.Y + o.PaddingY + ((i + 0.5) * o.LineHeight);
                break;
            }
        }

        double y1 = v.Y + Math.Min(12, v.Height / 2);
        bool rightwards = v.X >= u.Right;
        var p0 = new LayoutPoint(rightwards ? u.Right : u.X, y0);
        var p1 = new LayoutPoint(rightwards ? v.X : v.Right, y1);
        var mid = new LayoutPoint((p0.X + p1.X) / 2, ((p0.Y + p1.Y) / 2) - 4);
        return new LayoutEdge(e, EdgeRoute.Call, [p0, p1], e.Label, mid, LabelAnchor.Middle);
    }

    // The layout of one function, in its own coordinates (origin at the top left of its content).
    private sealed class FunctionLayout(ControlFlowGraph graph, CfgFunction function, CfgLayoutOptions o)
    {
        private const double TopRoom = 26;      // above rank 0: back edges into the entry turn here
        private const double BackLaneGap = 20;
        private const double BackLaneStep = 14;
        private const double BackRunStep = 6;
        private const double BlockWeight = 1000;
        private const int DummyBudget = 3000;
        private const double DummyWeight = 1;

        private readonly List<Node> _nodes = [];
        private readonly List<(int Edge, int From, int To)> _edges = [];   // intra-function, local node ids
        private readonly Dictionary<int, int> _local = [];
        private readonly List<int>[] _chain = new List<int>[graph.Edges.Count];
        private readonly List<LaneGroup> _groups = [];
        private readonly Dictionary<int, LaneGroup> _groupOf = [];
        private readonly Dictionary<int, double> _below = [];
        private List<int>[] _layers = [];
        private double[] _rankTop = [];
        private double[] _rankHeight = [];

        public double Width { get; private set; }

        public double Height { get; private set; }

        public void Run()
        {
            CreateNodes();
            var back = FindBackEdges(out var topo);
            AssignRanks(back, topo);
            CreateDummies(back);
            Order();
            Position();
            PlaceRanks();
            AssignLanes();
        }

        // ---- 1. nodes and intra-function edges ----
        private void CreateNodes()
        {
            foreach (int b in function.Blocks)
            {
                var lines = graph.BlockText(b, o.MaxLineChars);
                int chars = 1;
                foreach (var l in lines)
                {
                    chars = Math.Max(chars, l.Text.Length);
                }

                _local[b] = _nodes.Count;
                _nodes.Add(new Node
                {
                    Block = b,
                    Lines = lines,
                    W = Math.Ceiling((chars * o.CharWidth) + (2 * o.PaddingX)),
                    H = Math.Ceiling((Math.Max(lines.Count, 1) * o.LineHeight) + (2 * o.PaddingY)),
                });
            }

            for (int i = 0; i < graph.Edges.Count; i++)
            {
                var e = graph.Edges[i];
                if (!e.IsCall && _local.TryGetValue(e.From, out int u) && _local.TryGetValue(e.To, out int v))
                {
                    _edges.Add((i, u, v));
                }
            }
        }

        // ---- 2. back edges: depth-first from the entry (then from any block not reached), edges in graph order ----
        private bool[] FindBackEdges(out List<int> topo)
        {
            int n = _nodes.Count;
            var outEdges = new List<int>[n];
            for (int i = 0; i < n; i++)
            {
                outEdges[i] = [];
            }

            for (int k = 0; k < _edges.Count; k++)
            {
                outEdges[_edges[k].From].Add(k);
            }

            var state = new byte[n];
            var back = new bool[_edges.Count];
            var post = new List<int>(n);
            int pre = 0;
            var stack = new Stack<(int Node, int Next)>();
            for (int root = 0; root < n; root++)
            {
                if (state[root] != 0)
                {
                    continue;
                }

                state[root] = 1;
                _nodes[root].Pre = pre++;
                stack.Push((root, 0));
                while (stack.Count > 0)
                {
                    var (u, next) = stack.Pop();
                    if (next < outEdges[u].Count)
                    {
                        stack.Push((u, next + 1));
                        int k = outEdges[u][next];
                        int v = _edges[k].To;
                        if (state[v] == 1)
                        {
                            back[k] = true;
                        }
                        else if (state[v] == 0)
                        {
                            state[v] = 1;
                            _nodes[v].Pre = pre++;
                            stack.Push((v, 0));
                        }
                    }
                    else
                    {
                        state[u] = 2;
                        post.Add(u);
                    }
                }
            }

            post.Reverse();
            topo = post;
            return back;
        }

        // ---- 3. ranks: longest path from the sources over forward edges ----
        private void AssignRanks(bool[] back, List<int> topo)
        {
            var outEdges = new List<int>[_nodes.Count];
            for (int i = 0; i < outEdges.Length; i++)
            {
                outEdges[i] = [];
            }

            for (int k = 0; k < _edges.Count; k++)
            {
                if (!back[k])
                {
                    outEdges[_edges[k].From].Add(k);
                }
            }

            foreach (int u in topo)
            {
                foreach (int k in outEdges[u])
                {
                    int v = _edges[k].To;
                    _nodes[v].Rank = Math.Max(_nodes[v].Rank, _nodes[u].Rank + 1);
                }
            }
        }

        // ---- 4. dummy nodes on forward edges that span ranks. Back edges stay out of the layers, and so do the
        // longest forward edges when dummies would exceed a budget (a long unrolled loop whose every check jumps to
        // the end would need millions): those run down a lane on the side that all of them into one block share. ----
        private void CreateDummies(bool[] back)
        {
            var forward = new List<int>();
            long dummies = 0;
            for (int k = 0; k < _edges.Count; k++)
            {
                var (_, u, v) = _edges[k];
                if (!back[k] && _nodes[v].Rank > _nodes[u].Rank)
                {
                    forward.Add(k);
                    dummies += _nodes[v].Rank - _nodes[u].Rank - 1;
                }
            }

            var bus = new HashSet<int>();
            foreach (int k in forward.OrderByDescending(k => _nodes[_edges[k].To].Rank - _nodes[_edges[k].From].Rank).ThenBy(k => k))
            {
                if (dummies <= DummyBudget)
                {
                    break;
                }

                bus.Add(k);
                dummies -= _nodes[_edges[k].To].Rank - _nodes[_edges[k].From].Rank - 1;
            }

            var busGroups = new Dictionary<int, LaneGroup>();
            for (int k = 0; k < _edges.Count; k++)
            {
                var (edge, u, v) = _edges[k];
                if (back[k] || _nodes[v].Rank <= _nodes[u].Rank)
                {
                    var group = new LaneGroup(isBus: false, v);
                    group.Edges.Add(edge);
                    _groups.Add(group);
                    _groupOf[edge] = group;
                    _chain[edge] = [u, v];
                    continue;
                }

                if (bus.Contains(k))
                {
                    if (!busGroups.TryGetValue(v, out var group))
                    {
                        group = new LaneGroup(isBus: true, v);
                        busGroups[v] = group;
                        _groups.Add(group);
                    }

                    group.Edges.Add(edge);
                    _groupOf[edge] = group;
                    _chain[edge] = [u, v];
                    continue;
                }

                var chain = new List<int> { u };
                for (int r = _nodes[u].Rank + 1; r < _nodes[v].Rank; r++)
                {
                    chain.Add(_nodes.Count);
                    // Start long edges just left of where they end: the main (fall-through) path keeps the left.
                    _nodes.Add(new Node { Block = -1, Rank = r, Pre = _nodes[v].Pre, PreFraction = -0.5 + (k * 1e-4) });
                }

                chain.Add(v);
                _chain[edge] = chain;
                // The main path (fall-through, next, goto) is the one a block's position follows; a taken branch
                // bends away from it.
                bool main = graph.Edges[edge].Kind != CfgEdgeKind.Taken;
                for (int i = 0; i + 1 < chain.Count; i++)
                {
                    var link = new Link(chain[i], chain[i + 1], Pull(chain[i + 1], chain[i]), Pull(chain[i], chain[i + 1]), main || i > 0);
                    _nodes[chain[i]].Down.Add(link);
                    _nodes[chain[i + 1]].Up.Add(link);
                }
            }

            int ranks = 0;
            foreach (var nd in _nodes)
            {
                ranks = Math.Max(ranks, nd.Rank + 1);
            }

            _layers = new List<int>[ranks];
            for (int r = 0; r < ranks; r++)
            {
                _layers[r] = [];
            }

            for (int i = 0; i < _nodes.Count; i++)
            {
                _layers[_nodes[i].Rank].Add(i);
            }

            foreach (var layer in _layers)
            {
                layer.Sort((a, b) => (_nodes[a].Pre + _nodes[a].PreFraction).CompareTo(_nodes[b].Pre + _nodes[b].PreFraction));
                Renumber(layer);
            }
        }

        // How hard `other` pulls `owner` towards it: a long edge's dummies pull each other hardest, so long edges run
        // straight; a block follows the blocks next to it and hardly the long edges that leave or reach it.
        private double Pull(int owner, int other) => (_nodes[owner].IsDummy, _nodes[other].IsDummy) switch
        {
            (true, true) => 8,
            (true, false) => 2,
            (false, false) => 1,
            _ => 0.05,
        };

        // ---- 5. crossing reduction: barycentre sweeps, keeping the best order seen ----
        private void Order()
        {
            var best = Snapshot();
            long bestCrossings = Crossings();
            for (int pass = 0; pass < o.OrderingPasses && bestCrossings > 0; pass++)
            {
                bool down = pass % 2 == 0;
                if (down)
                {
                    for (int r = 1; r < _layers.Length; r++)
                    {
                        SortByBarycentre(_layers[r], up: true);
                    }
                }
                else
                {
                    for (int r = _layers.Length - 2; r >= 0; r--)
                    {
                        SortByBarycentre(_layers[r], up: false);
                    }
                }

                long c = Crossings();
                if (c < bestCrossings)
                {
                    bestCrossings = c;
                    best = Snapshot();
                }
            }

            for (int r = 0; r < _layers.Length; r++)
            {
                _layers[r] = [.. best[r]];
                Renumber(_layers[r]);
            }
        }

        private void SortByBarycentre(List<int> layer, bool up)
        {
            var keys = new Dictionary<int, (double Bary, int Old)>(layer.Count);
            foreach (int v in layer)
            {
                var nbrs = up ? _nodes[v].Up : _nodes[v].Down;
                double sum = 0;
                foreach (var l in nbrs)
                {
                    sum += _nodes[up ? l.From : l.To].Order;
                }

                keys[v] = (nbrs.Count > 0 ? sum / nbrs.Count : _nodes[v].Order, _nodes[v].Order);
            }

            layer.Sort((a, b) =>
            {
                int c = keys[a].Bary.CompareTo(keys[b].Bary);
                return c != 0 ? c : keys[a].Old.CompareTo(keys[b].Old);
            });
            Renumber(layer);
        }

        private long Crossings()
        {
            long total = 0;
            var segs = new List<(int A, int B)>();
            for (int r = 0; r + 1 < _layers.Length; r++)
            {
                segs.Clear();
                foreach (int u in _layers[r])
                {
                    foreach (var l in _nodes[u].Down)
                    {
                        segs.Add((_nodes[u].Order, _nodes[l.To].Order));
                    }
                }

                for (int i = 0; i < segs.Count; i++)
                {
                    for (int j = i + 1; j < segs.Count; j++)
                    {
                        if ((segs[i].A - segs[j].A) * (long)(segs[i].B - segs[j].B) < 0)
                        {
                            total++;
                        }
                    }
                }
            }

            return total;
        }

        private List<int>[] Snapshot()
        {
            var s = new List<int>[_layers.Length];
            for (int r = 0; r < _layers.Length; r++)
            {
                s[r] = [.. _layers[r]];
            }

            return s;
        }

        private void Renumber(List<int> layer)
        {
            for (int i = 0; i < layer.Count; i++)
            {
                _nodes[layer[i]].Order = i;
            }
        }

        // ---- 6. x: pull nodes towards their neighbours, each rank solved for the minimum separations ----
        // A node's children sit side by side below it: the main child straight below, the others beside it at their
        // separations (without a main child, centred). So a chain of fall-throughs stays straight, and branches
        // fan out from it instead of pushing it sideways at every fork.
        private void ComputeOffsets()
        {
            foreach (var nd in _nodes)
            {
                if (nd.Down.Count == 0)
                {
                    continue;
                }

                var links = nd.Down.OrderBy(l => _nodes[l.To].Order).ToList();
                var pos = new Dictionary<int, double>();
                double p = 0;
                int previous = -1;
                foreach (var l in links)
                {
                    if (pos.ContainsKey(l.To))
                    {
                        continue;
                    }

                    p += previous < 0 ? 0 : Separation(previous, l.To);
                    pos[l.To] = p;
                    previous = l.To;
                }

                var main = links.FirstOrDefault(l => l.Main);
                double origin = main is not null ? pos[main.To] : p / 2;
                foreach (var l in links)
                {
                    l.Offset = pos[l.To] - origin;
                }
            }
        }

        private void Position()
        {
            ComputeOffsets();
            foreach (var layer in _layers)
            {
                double x = 0;
                for (int i = 0; i < layer.Count; i++)
                {
                    var nd = _nodes[layer[i]];
                    if (i > 0)
                    {
                        x += Separation(layer[i - 1], layer[i]);
                    }

                    nd.X = x;
                }
            }

            for (int pass = 0; pass < o.PositionPasses; pass++)
            {
                bool last = pass == o.PositionPasses - 1;
                for (int r = 1; r < _layers.Length; r++)
                {
                    Place(_layers[r], useUp: true, useDown: last);
                }

                for (int r = _layers.Length - 2; r >= 0; r--)
                {
                    Place(_layers[r], useUp: last, useDown: true);
                }
            }

            double min = double.MaxValue;
            foreach (var nd in _nodes)
            {
                min = Math.Min(min, nd.X - (nd.W / 2));
            }

            foreach (var nd in _nodes)
            {
                nd.X -= min;
            }
        }

        private double Separation(int a, int b)
        {
            var na = _nodes[a];
            var nb = _nodes[b];
            double gap = (na.IsDummy, nb.IsDummy) switch
            {
                (false, false) => o.NodeGap,
                (true, true) => 12,
                _ => 18,
            };
            return ((na.W + nb.W) / 2) + gap;
        }

        // Minimises sum w_i (x_i - d_i)^2 subject to x_{i+1} - x_i >= sep(i, i+1): with y_i = x_i - s_i (s_i the sum of
        // the separations before i) the constraints become y non-decreasing, a weighted isotonic regression that
        // pool-adjacent-violators solves exactly. Blocks weigh far more than dummies (a priority layout): a block
        // stays where its neighbours want it, and the long edges passing beside it make room.
        private void Place(List<int> layer, bool useUp, bool useDown)
        {
            int n = layer.Count;
            if (n == 0)
            {
                return;
            }

            var target = new double[n];
            var offset = new double[n];
            for (int i = 0; i < n; i++)
            {
                var nd = _nodes[layer[i]];
                double sum = 0, weight = 0;
                if (useUp)
                {
                    foreach (var l in nd.Up)
                    {
                        sum += l.ToPull * (_nodes[l.From].X + l.Offset);
                        weight += l.ToPull;
                    }
                }

                if (useDown)
                {
                    foreach (var l in nd.Down)
                    {
                        sum += l.FromPull * (_nodes[l.To].X - l.Offset);
                        weight += l.FromPull;
                    }
                }

                double desired = weight > 0 ? sum / weight : nd.X;
                offset[i] = i == 0 ? 0 : offset[i - 1] + Separation(layer[i - 1], layer[i]);
                target[i] = desired - offset[i];
            }

            // Pools of adjacent values: weighted mean, total weight, member count.
            var mean = new double[n];
            var weightOf = new double[n];
            var count = new int[n];
            int top = -1;
            for (int i = 0; i < n; i++)
            {
                top++;
                mean[top] = target[i];
                weightOf[top] = _nodes[layer[i]].IsDummy ? DummyWeight : BlockWeight;
                count[top] = 1;
                while (top > 0 && mean[top - 1] > mean[top])
                {
                    double w = weightOf[top - 1] + weightOf[top];
                    mean[top - 1] = ((mean[top - 1] * weightOf[top - 1]) + (mean[top] * weightOf[top])) / w;
                    weightOf[top - 1] = w;
                    count[top - 1] += count[top];
                    top--;
                }
            }

            int k = 0;
            for (int b = 0; b <= top; b++)
            {
                for (int j = 0; j < count[b]; j++, k++)
                {
                    _nodes[layer[k]].X = mean[b] + offset[k];
                }
            }
        }

        // ---- 7. y: ranks top-aligned, a gap between ----
        private void PlaceRanks()
        {
            _rankTop = new double[_layers.Length];
            _rankHeight = new double[_layers.Length];
            double y = TopRoom;
            for (int r = 0; r < _layers.Length; r++)
            {
                double h = 0;
                foreach (int v in _layers[r])
                {
                    h = Math.Max(h, _nodes[v].H);
                }

                _rankTop[r] = y;
                _rankHeight[r] = h;
                y += h + o.RankGap;
            }
        }

        // ---- 8. side lanes (back edges, and buses of long edges into one block): shorter spans inside, each lane
        // right of everything it passes; the horizontal runs stay in the gaps between ranks ----
        private void AssignLanes()
        {
            foreach (var g in _groups)
            {
                g.Lo = _nodes[g.Target].Rank;
                g.Hi = g.Lo;
                foreach (int e in g.Edges)
                {
                    int from = Rank(graph.Edges[e].From);
                    g.Lo = Math.Min(g.Lo, from);
                    g.Hi = Math.Max(g.Hi, from);
                }
            }

            var placed = new List<LaneGroup>();
            var belowCount = new Dictionary<int, int>();
            var aboveCount = new Dictionary<int, int>();
            double right = 0;
            foreach (var nd in _nodes)
            {
                right = Math.Max(right, nd.X + (nd.W / 2));
            }

            double maxRun = (o.RankGap / 2) - 14;
            foreach (var g in _groups.OrderBy(g => g.Hi - g.Lo).ThenBy(g => g.Lo))
            {
                double x = 0;
                for (int r = g.Lo; r <= g.Hi; r++)
                {
                    foreach (int v in _layers[r])
                    {
                        x = Math.Max(x, _nodes[v].X + (_nodes[v].W / 2));
                    }
                }

                x += BackLaneGap;
                foreach (var p in placed)
                {
                    if (p.Lo <= g.Hi && g.Lo <= p.Hi)
                    {
                        x = Math.Max(x, p.X + BackLaneStep);
                    }
                }

                g.X = x;
                placed.Add(g);
                right = Math.Max(right, x);

                int to = _nodes[g.Target].Rank;
                int ka = aboveCount.GetValueOrDefault(to);
                aboveCount[to] = ka + 1;
                g.Above = _rankTop[to] - 10 - Math.Min(ka * BackRunStep, maxRun);
                foreach (int e in g.Edges)
                {
                    int from = Rank(graph.Edges[e].From);
                    int kb = belowCount.GetValueOrDefault(from);
                    belowCount[from] = kb + 1;
                    _below[e] = _rankTop[from] + _rankHeight[from] + 10 + Math.Min(kb * BackRunStep, maxRun);
                }
            }

            double bottom = 0;
            for (int r = 0; r < _layers.Length; r++)
            {
                bottom = Math.Max(bottom, _rankTop[r] + _rankHeight[r]);
            }

            if (belowCount.ContainsKey(_layers.Length - 1))
            {
                bottom += o.RankGap / 2;
            }

            Width = right + (_groups.Count > 0 ? 8 : 0);
            Height = bottom;
        }

        private int Rank(int block) => _nodes[_local[block]].Rank;

        // ---- 9. output, shifted to the cluster's origin ----
        public void Emit(double ox, double oy, LayoutNode[] nodes, LayoutEdge?[] edges)
        {
            foreach (var nd in _nodes)
            {
                if (!nd.IsDummy)
                {
                    nodes[nd.Block] = new LayoutNode(nd.Block, ox + nd.X - (nd.W / 2), oy + _rankTop[nd.Rank], nd.W, nd.H, nd.Lines);
                }
            }

            // Ports: a node's outgoing edges leave its bottom, ordered by where they go; incoming edges enter its top,
            // ordered by where they come from. Back edges take the rightmost ports.
            var outPorts = new Dictionary<int, List<(int Edge, double Key)>>();
            var inPorts = new Dictionary<int, List<(int Edge, double Key)>>();
            foreach (var (edge, u, v) in _edges)
            {
                var chain = _chain[edge];
                var group = _groupOf.GetValueOrDefault(edge);
                double outKey = group is not null ? double.MaxValue : _nodes[chain[1]].X;
                double inKey = group is not null ? double.MaxValue : _nodes[chain[^2]].X;
                Add(outPorts, u, (edge, outKey));

                // A bus enters its block through one port.
                if (group is null || group.Edges[0] == edge)
                {
                    Add(inPorts, v, (edge, inKey));
                }
            }

            var outX = PortPositions(outPorts, ox);
            var inX = PortPositions(inPorts, ox);
            foreach (var (edge, u, v) in _edges)
            {
                var e = graph.Edges[edge];
                var src = _nodes[u];
                var dst = _nodes[v];
                double srcBottom = oy + _rankTop[src.Rank] + src.H;
                double dstTop = oy + _rankTop[dst.Rank];
                var p0 = new LayoutPoint(outX[edge], srcBottom);
                var points = new List<LayoutPoint> { p0 };
                EdgeRoute route;
                if (_groupOf.TryGetValue(edge, out var group))
                {
                    route = group.IsBus ? EdgeRoute.Bus : EdgeRoute.Back;
                    double below = _below[edge];
                    double portIn = inX[group.Edges[0]];
                    points.Add(new LayoutPoint(p0.X, oy + below));
                    points.Add(new LayoutPoint(ox + group.X, oy + below));
                    points.Add(new LayoutPoint(ox + group.X, oy + group.Above));
                    points.Add(new LayoutPoint(portIn, oy + group.Above));
                    points.Add(new LayoutPoint(portIn, dstTop));
                }
                else
                {
                    route = EdgeRoute.Forward;
                    var chain = _chain[edge];
                    for (int i = 1; i + 1 < chain.Count; i++)
                    {
                        var d = _nodes[chain[i]];
                        var top = new LayoutPoint(ox + d.X, oy + _rankTop[d.Rank]);
                        var bottom = new LayoutPoint(ox + d.X, oy + _rankTop[d.Rank] + _rankHeight[d.Rank]);
                        points.Add(top);
                        if (bottom != top)
                        {
                            points.Add(bottom);
                        }
                    }

                    points.Add(new LayoutPoint(inX[edge], dstTop));
                }

                double centre = ox + src.X;
                var anchor = p0.X < centre - 0.5 ? LabelAnchor.End : LabelAnchor.Start;
                var at = new LayoutPoint(p0.X + (anchor == LabelAnchor.End ? -4 : 4), p0.Y + 13);
                edges[edge] = new LayoutEdge(e, route, points, e.Label, at, anchor);
            }
        }

        private static void Add(Dictionary<int, List<(int Edge, double Key)>> ports, int node, (int Edge, double Key) item)
        {
            if (!ports.TryGetValue(node, out var list))
            {
                list = [];
                ports[node] = list;
            }

            list.Add(item);
        }

        private Dictionary<int, double> PortPositions(Dictionary<int, List<(int Edge, double Key)>> ports, double ox)
        {
            var x = new Dictionary<int, double>();
            foreach (var (node, list) in ports)
            {
                var nd = _nodes[node];
                var sorted = list.OrderBy(p => p.Key).ThenBy(p => graph.Edges[p.Edge].Kind == CfgEdgeKind.Taken ? 1 : 0).ToList();
                double left = ox + nd.X - (nd.W / 2);
                for (int i = 0; i < sorted.Count; i++)
                {
                    x[sorted[i].Edge] = left + (nd.W * (i + 1) / (sorted.Count + 1));
                }
            }

            return x;
        }

        // A segment between adjacent ranks. ToPull: how hard From pulls To; FromPull: how hard To pulls From. Offset:
        // where To would sit relative to From if nothing else were in the way (0 on the main path, the separations
        // from the main child for the others).
        private sealed class Link(int from, int to, double toPull, double fromPull, bool main)
        {
            public int From { get; } = from;

            public int To { get; } = to;

            public double ToPull { get; } = toPull;

            public double FromPull { get; } = fromPull;

            public bool Main { get; } = main;

            public double Offset { get; set; }
        }

        // Edges that run in one lane on the side: a back edge, or the long edges into one block.
        private sealed class LaneGroup(bool isBus, int target)
        {
            public bool IsBus { get; } = isBus;

            public int Target { get; } = target;

            public List<int> Edges { get; } = [];

            public int Lo { get; set; }

            public int Hi { get; set; }

            public double X { get; set; }

            public double Above { get; set; }
        }

        private sealed class Node
        {
            public int Block;
            public IReadOnlyList<CfgTextLine> Lines = [];
            public double W;
            public double H;
            public int Rank;
            public int Pre;
            public double PreFraction;
            public int Order;
            public double X;   // centre
            public readonly List<Link> Up = [];
            public readonly List<Link> Down = [];

            public bool IsDummy => Block < 0;
        }
    }
}
