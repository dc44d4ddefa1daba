"""Small triangle meshes with known geometry, for the surface tests."""

import numpy as np


def flat_grid(n: int = 12, spacing: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """A flat square `n x n` grid of vertices `spacing` mm apart in the plane z = 0,
    each square cut into two triangles (counter-clockwise seen from +z). The domain
    is convex and planar, so the geodesic distance between two vertices is exactly
    their Euclidean distance."""
    xs, ys = np.meshgrid(np.arange(n) * spacing, np.arange(n) * spacing)
    vertices = np.c_[xs.ravel(), ys.ravel(), np.zeros(n * n)]
    tris = []
    for i in range(n - 1):
        for j in range(n - 1):
            a = i * n + j
            tris += [[a, a + 1, a + n], [a + 1, a + n + 1, a + n]]
    return vertices, np.array(tris)


def icosphere(subdivisions: int = 2, radius: float = 50.0, centre=(0.0, 0.0, 0.0)):
    """A sphere triangulated by subdividing an icosahedron (outward-oriented
    triangles); 12, 42, 162, 642 vertices for 0-3 subdivisions."""
    p = (1 + 5**0.5) / 2
    v = [
        [-1, p, 0], [1, p, 0], [-1, -p, 0], [1, -p, 0],
        [0, -1, p], [0, 1, p], [0, -1, -p], [0, 1, -p],
        [p, 0, -1], [p, 0, 1], [-p, 0, -1], [-p, 0, 1],
    ]  # fmt: skip
    f = [
        [0, 11, 5], [0, 5, 1], [0, 1, 7], [0, 7, 10], [0, 10, 11],
        [1, 5, 9], [5, 11, 4], [11, 10, 2], [10, 7, 6], [7, 1, 8],
        [3, 9, 4], [3, 4, 2], [3, 2, 6], [3, 6, 8], [3, 8, 9],
        [4, 9, 5], [2, 4, 11], [6, 2, 10], [8, 6, 7], [9, 8, 1],
    ]  # fmt: skip
    verts = [np.array(x, float) / np.linalg.norm(x) for x in v]
    faces = f
    for _ in range(subdivisions):
        cache: dict[tuple[int, int], int] = {}

        def midpoint(a, b, verts=verts, cache=cache):
            key = (min(a, b), max(a, b))
            if key not in cache:
                m = verts[a] + verts[b]
                verts.append(m / np.linalg.norm(m))
                cache[key] = len(verts) - 1
            return cache[key]

        new = []
        for a, b, c in faces:
            ab, bc, ca = midpoint(a, b), midpoint(b, c), midpoint(c, a)
            new += [[a, ab, ca], [b, bc, ab], [c, ca, bc], [ab, bc, ca]]
        faces = new
    return np.array(verts) * radius + np.asarray(centre), np.array(faces)


def two_hemispheres(subdivisions: int = 2, radius: float = 30.0, gap: float = 10.0):
    """Two disjoint icospheres side by side along x (left at x < 0, right at
    x > 0): a toy two-hemisphere cortex in RAS coordinates."""
    offset = radius + gap / 2
    lv, lt = icosphere(subdivisions, radius, (-offset, 0.0, 0.0))
    rv, rt = icosphere(subdivisions, radius, (offset, 0.0, 0.0))
    return np.concatenate([lv, rv]), np.concatenate([lt, rt + len(lv)])
