"""``model train | list | status | promote | rollback``: the risk model's registry (MLflow)."""

from __future__ import annotations

import argparse

from analytics_platform.cli.arguments import day


def register(sub) -> None:
    model = sub.add_parser(
        "model", help="the risk model: train, list, status, promote, rollback (MLflow registry)"
    )
    model_sub = model.add_subparsers(dest="model_command", required=True)
    train = model_sub.add_parser("train", help="train on the warehouse and register a version")
    train.add_argument("--cutoff", type=day, help="labels known by then (default: last day)")
    train.add_argument("--labels", help="a labels file besides the verdicts and risk.labels_path")
    train.add_argument(
        "--as", dest="alias", choices=("champion", "challenger"),
        help="the alias it takes (default: challenger, or champion when there is none)",
    )  # fmt: skip
    model_sub.add_parser("list", help="every version with its aliases, cutoff and features")
    model_sub.add_parser("status", help="champion, challenger and the journal of moves")
    promote = model_sub.add_parser(
        "promote", help="make the challenger the champion if it beat it on the shadow days"
    )
    promote.add_argument("--force", action="store_true", help="promote anyway (needs --reason)")
    rollback = model_sub.add_parser("rollback", help="the champion back to the one before")
    for p in (train, promote, rollback):
        p.add_argument("--by", default="", help="who (default: the login name)")
    promote.add_argument("--reason", default="", help="why (recorded in the journal)")
    rollback.add_argument("--reason", required=True, help="why (recorded in the journal)")
    for p in model_sub.choices.values():
        p.add_argument("--network", default="torus")
    model.set_defaults(handler=run_model_command)


def run_model_command(args: argparse.Namespace) -> int:
    import getpass

    from analytics_platform.config import load_settings
    from analytics_platform.pipeline import model_ops

    settings = load_settings()
    settings.network(args.network)
    by = getattr(args, "by", "") or getpass.getuser()
    command = args.model_command
    if command == "train":
        done = model_ops.train_model(
            settings, args.network, cutoff=args.cutoff, by=by, labels_path=args.labels,
            alias=args.alias,
        )  # fmt: skip
        v, model = done.version, done.model
        print(
            f"{args.network}: version {v.version} ({', '.join(v.aliases) or 'no alias'}), "
            f"training set {done.training_set}, "
            f"cutoff {model.cutoff}, {len(model.features)} features ({model.feature_hash}), "
            f"classes {', '.join(model.classes[1:])}; validation F1 "
            f"{model.metrics.get('validation_f1')}"
        )
        return 0
    registry = model_ops.registry_of(settings)
    if command == "list":
        versions = registry.versions(args.network)
        if not versions:
            print(f"{args.network}: no model trained yet (analytics-platform model train)")
        for v in versions:
            print(
                f"{v.version:>4}  {','.join(v.aliases) or '-':<20} cutoff {v.cutoff}  "
                f"features {v.feature_hash}  {v.created:%Y-%m-%d %H:%M} UTC"
            )
        return 0
    if command == "status":
        for alias in ("champion", "challenger"):
            print(f"{alias}: {registry.version_of(args.network, alias) or 'none'}")
        for m in registry.journal(args.network):
            print(f"  {m.at} {m.alias}: {m.before or '-'} -> {m.after or '-'} by {m.by}: {m.why}")
        print(f"registry: {registry.uri}")
        return 0
    if command == "promote":
        version, judged = model_ops.promote(
            settings, args.network, by=by, reason=args.reason, force=args.force
        )
        detail = f" (shadow days {judged.days}, recall in budget {judged.recall})" if judged else ""
        print(f"{args.network}: version {version} is the champion{detail}")
        return 0
    before, after = model_ops.rollback(settings, args.network, by=by, reason=args.reason)
    print(f"{args.network}: champion back from version {before} to {after}")
    return 0
