"""rich drivers for the corpus: python3 rich_displays.py progress|live_table|status|progress_logs."""
import sys
import time

from rich.console import Console
from rich.live import Live
from rich.progress import Progress
from rich.table import Table


def progress():
    with Progress() as p:
        tasks = [p.add_task(name, total=total) for name, total in (("[red]Downloading", 100), ("[green]Processing", 80), ("[cyan]Cooking", 60))]
        while not p.finished:
            for task, step in zip(tasks, (3, 2, 1)):
                p.update(task, advance=step)
            time.sleep(0.03)


def live_table():
    def table(n):
        t = Table(title="jobs")
        t.add_column("id")
        t.add_column("state")
        t.add_column("progress", justify="right")
        for i in range(5):
            t.add_row(str(i), "done" if n > i * 8 else "running", f"{min(100, n * 3 + i)}%")
        return t

    with Live(table(0), refresh_per_second=20) as live:
        for n in range(40):
            time.sleep(0.04)
            live.update(table(n))


def status():
    console = Console()
    with console.status("[bold green]Working on tasks...") as s:
        for i in range(5):
            time.sleep(0.3)
            console.log(f"task {i} complete")
        s.update("[bold blue]Finishing...")
        time.sleep(0.3)


def progress_logs():
    with Progress() as p:
        task = p.add_task("Indexing", total=50)
        for i in range(50):
            if i % 10 == 0:
                p.console.print(f"indexed shard {i // 10}")
            p.update(task, advance=1)
            time.sleep(0.03)


globals()[sys.argv[1]]()
