"""zi2zi ui: the local web app (projects, fine-tuning, handwriting, review, export) in the browser."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ui",
        help="start the local web app (needs the ui extra: pip install 'zi2zi[ui]')",
        description=(
            "Serve the web app on http://127.0.0.1:PORT; open the address it prints, which carries a "
            "token that lets your browser in (other web sites and programs are refused). Each project is a folder under --projects: "
            "uploads, the fine-tuning run, glyphs and fonts; long jobs run in the background and a "
            "training continues from its checkpoint after a restart."
        ),
        epilog="example: zi2zi ui --projects ~/zi2zi-projects --port 8765",
    )
    p.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    p.add_argument("--projects", default="projects", metavar="DIR", help="the projects folder (default ./projects)")
    p.add_argument("--base", action="append", default=[], metavar="CKPT|RUN",
                   help="a checkpoint or run directory to offer as a base besides the shipped ones (repeatable)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1); anything else needs --allow-remote")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow --host other than 127.0.0.1: its only login is the token, sent over plain http")
    p.add_argument("--no-token", action="store_true",
                   help="serve without the per-launch token (printed in the address, then kept in a cookie): "
                        "any program on this machine can then use the app")
    p.add_argument("--device", default="cpu", metavar="D", help="device for training jobs: cpu | cuda | mps | auto")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from zi2zi.ui.serve import serve

    return serve(projects=args.projects, port=args.port, host=args.host, allow_remote=args.allow_remote,
                 bases=args.base, device=args.device, token=not args.no_token)
