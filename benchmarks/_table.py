"""The aligned Markdown table the benchmark scripts print (one copy for all of them)."""


def print_table(header, rows):
    """Print `header` (column titles) and `rows` (lists of strings) as a Markdown table."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]
    print("| " + " | ".join(cell.ljust(w) for cell, w in zip(header, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for cells in rows:
        print("| " + " | ".join(cell.ljust(w) for cell, w in zip(cells, widths)) + " |")
