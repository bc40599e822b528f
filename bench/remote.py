"""Side by side: nbrun and papermill reading a template from S3 and writing the report back.

Starts moto's S3 server on 127.0.0.1, then runs each tool N times, interleaved,
on the same one-cell template, and prints medians and ratios. Not a test.

    pip install -e '.[test]'    # moto[server], s3fs, papermill
    python bench/remote.py -n 5
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import nbformat


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5, help="runs per tool (interleaved)")
    args = parser.parse_args()
    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
        "FSSPEC_S3_ENDPOINT_URL": endpoint,
    }
    import boto3

    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bench", aws_secret_access_key="bench"
    )
    client.create_bucket(Bucket="bench-reports")
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("day = 'x'", metadata={"tags": ["parameters"]}),
            nbformat.v4.new_code_cell("print(day)"),
        ]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    client.put_object(Bucket="bench-reports", Key="t/daily.ipynb", Body=nbformat.writes(nb).encode())
    bin_dir = Path(sys.executable).parent
    tools = {
        "nbrun": [
            str(bin_dir / "nbrun"),
            "run",
            "s3://bench-reports/t/daily.ipynb",
            "-p",
            "day",
            "d",
            "-o",
            "s3://bench-reports/out/nbrun.ipynb",
        ],
        "papermill": [
            str(bin_dir / "papermill"),
            "s3://bench-reports/t/daily.ipynb",
            "s3://bench-reports/out/papermill.ipynb",
            "-p",
            "day",
            "d",
            "--no-progress-bar",
        ],
    }
    times: dict[str, list[float]] = {name: [] for name in tools}
    for _ in range(args.n):
        for name, command in tools.items():
            start = time.perf_counter()
            proc = subprocess.run(command, env=env, capture_output=True, text=True)
            times[name].append(time.perf_counter() - start)
            if proc.returncode != 0:
                print(f"{name} failed: {proc.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
                return 1
    base = statistics.median(times["nbrun"])
    print(f"S3 template -> S3 report, one parameter, median of {args.n} (whole process):")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:10s} {median:6.2f} s  ({median / base:.2f}x nbrun)")
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
