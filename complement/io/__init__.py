"""Loading and validating inputs: embeddings, id maps, interaction logs, the joined views."""

from complement.io.embeddings import Embeddings, canonical_ids, load_embeddings, load_ids
from complement.io.interactions import Interactions, load_interactions
from complement.io.items import ItemTitles, load_items
from complement.io.split_logs import load_split_files
from complement.io.views import Views, join_views, map_ids

__all__ = [
    "Embeddings",
    "Interactions",
    "ItemTitles",
    "Views",
    "canonical_ids",
    "join_views",
    "load_embeddings",
    "load_ids",
    "load_interactions",
    "load_items",
    "load_split_files",
    "map_ids",
]
