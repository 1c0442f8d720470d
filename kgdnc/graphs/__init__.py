"""Knowledge graphs: the in-memory graph, readers, the workspace store, bundled data.

This package imports no torch. Heavy libraries (rdflib, pandas, networkx) are
imported inside the functions that need them.
"""

from kgdnc.graphs.datasets import BUNDLED, bundled_names, load_bundled
from kgdnc.graphs.export import to_tsv, to_turtle
from kgdnc.graphs.generate import (
    BASE_RELATIONS,
    KINSHIP_ALIASES,
    FamilyTreeConfig,
    family_tree,
    family_tree_turtle,
    kinship_relation,
)
from kgdnc.graphs.graph import GraphSummary, KnowledgeGraph, Node, Relation, Triple
from kgdnc.graphs.ingest import FORMATS, IngestOptions, ingest
from kgdnc.graphs.store import (
    default_name,
    describe,
    exists,
    export_graph,
    home,
    ingest_to_store,
    list_graphs,
    load,
    load_stored,
    remove,
    save,
    set_default,
    validate_name,
)

__all__ = [
    "BASE_RELATIONS",
    "BUNDLED",
    "FORMATS",
    "KINSHIP_ALIASES",
    "FamilyTreeConfig",
    "GraphSummary",
    "IngestOptions",
    "KnowledgeGraph",
    "Node",
    "Relation",
    "Triple",
    "bundled_names",
    "default_name",
    "describe",
    "exists",
    "export_graph",
    "family_tree",
    "family_tree_turtle",
    "home",
    "ingest",
    "ingest_to_store",
    "kinship_relation",
    "list_graphs",
    "load",
    "load_bundled",
    "load_stored",
    "remove",
    "save",
    "set_default",
    "to_tsv",
    "to_turtle",
    "validate_name",
]
