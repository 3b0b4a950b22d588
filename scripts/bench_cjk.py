#!/usr/bin/env python3
"""CJK search benchmark: the size of the *_cjk indexes and the latency of CJK queries.

Generates a deterministic corpus of Chinese, Japanese and Korean messages (with some
Latin words mixed in, as real conversations have), imports it into a fresh database and
reports:

  text_mb      UTF-8 size of the message texts
  index_mb     pages of the messages_cjk index (data, idx, docsize, config), via dbstat
  main_fts_mb  the same for the main messages_fts index, for comparison
  import_s     wall time of the import (in-process)
  search       p50/p95 (best of 3 per query) of Archive.search() for CJK, mixed and
               Latin queries

Usage: python scripts/bench_cjk.py [--messages 20000] [--work DIR] [--keep]
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import time
from pathlib import Path

ZH = ("数据库 配置 更新 服务器 用户 问题 需要 我们 今天 系统 文件 代码 测试 部署 网络 安全 性能 优化 "
      "缓存 接口 请求 响应 错误 日志 备份 恢复 迁移 版本 环境 变量 函数 参数 返回 结果 查询 索引 "
      "事务 连接 超时 重启 监控 报警 容器 镜像 集群 节点 负载 均衡 权限 账号 密码 加密 证书 域名 "
      "前端 后端 页面 按钮 组件 样式 布局 手机 电脑 浏览器 下载 上传 分享 评论 喜欢 乌龙茶 咖啡 "
      "天气 周末 旅行 北京 上海 学习 工作 会议 项目 计划 时间 明天 昨天 可以 应该 已经 非常 "
      "的 了 是 在 和 也 就 都 很 把 被 给 让 我 你 他 她 这 那 一个 一些 因为 所以 但是 如果").split()
JA = ("アップデート データベース 設定 検索 機能 確認 テスト サーバー ユーザー 問題 依存関係 "
      "パッケージ インストール エラー ログ ファイル 実行 変更 追加 削除 修正 対応 環境 本番 開発 "
      "東京 大阪 京都 ラーメン 寿司 天気 週末 会議 資料 説明 理解 必要 可能 簡単 難しい "
      "は が を に で の と も から まで です ます しました してください します でした").split()
KO = ("데이터베이스를 업데이트하는 서버에서 사용자가 문제를 설정을 검색 기능을 확인했습니다 테스트를 "
      "배포 환경에서 오류가 로그를 파일을 실행하면 변경 추가 삭제 수정 서울 부산 날씨가 주말에 "
      "회의 자료를 설명해 주세요 필요합니다 가능합니다 어렵습니다 먼저 백업을 만드세요 그리고 "
      "하지만 그래서 오늘 내일 어제 정말 아주 조금").split()
LATIN = "config API Python Docker nginx JSON SQL git deploy cache token v2 HTTP".split()
PUNCT = {"zh": "，。！？、", "ja": "、。！？", "ko": ",.!? "}

QUERIES = [
    "数据库", "配置", "乌龙茶", "服务器", "更新数据库", "负载均衡", "茶", "库", "数据库 config",
    "部署 Docker", "性能 优化", "数据", "据库", "北京 旅行", "日志 错误", "加密证书",
    "アップデート", "データベース", "検索", "依存関係", "東京", "ラーメン", "テスト nginx",
    "設定 確認", "デー", "京",
    "데이터베이스", "업데이트", "서버", "백업", "사용자", "오류 로그", "배포 API", "서울",
    "config", "Python", "deploy cache", "nginx JSON",
]


def sentence(rng: random.Random, lang: str) -> str:
    vocab = {"zh": ZH, "ja": JA, "ko": KO}[lang]
    n = rng.randint(8, 40)
    sep = " " if lang == "ko" else ""
    words = []
    for _ in range(n):
        if rng.random() < 0.06:
            words.append(f" {rng.choice(LATIN)} ")
        else:
            words.append(rng.choice(vocab))
        if rng.random() < 0.12:
            words.append(rng.choice(PUNCT[lang]))
    return sep.join(words) + rng.choice(PUNCT[lang][:2])


def corpus(n_messages: int, seed: int = 7) -> list[dict]:  # type: ignore[type-arg]
    rng = random.Random(seed)
    convs, left, i = [], n_messages, 0
    while left > 0:
        lang = rng.choice(["zh", "zh", "ja", "ko"])
        k = min(left, rng.randint(4, 16))
        msgs = [{"role": "user" if j % 2 == 0 else "assistant",
                 "text": "".join(sentence(rng, lang) for _ in range(rng.randint(1, 5)))}
                for j in range(k)]
        convs.append({"source": "chatgpt", "source_id": f"cjk-{i}",
                      "title": sentence(rng, lang)[:30], "created_at": 1700000000 + i * 3600,
                      "messages": msgs})
        left -= k
        i += 1
    return convs


def pages_mb(conn: sqlite3.Connection, prefix: str) -> float:
    return round(conn.execute("SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name IN "
                              "(?, ?, ?, ?)", [f"{prefix}_{s}" for s in
                                               ("data", "idx", "docsize", "config")]
                              ).fetchone()[0] / 1e6, 2)


def pct(vals: list[float], p: float) -> float:
    s = sorted(vals)
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return round(s[lo] + (s[hi] - s[lo]) * (k - lo), 2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--work", type=Path, default=Path("/tmp/aimem-bench-cjk"))
    args = ap.parse_args()
    from aimem.services import Archive

    args.work.mkdir(parents=True, exist_ok=True)
    src, db = args.work / "cjk.jsonl", args.work / "cjk.db"
    for p in args.work.glob("cjk.db*"):
        p.unlink()
    convs = corpus(args.messages)
    src.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in convs),
                   encoding="utf-8")
    text_bytes = sum(len(m["text"].encode()) for c in convs for m in c["messages"])
    t = time.perf_counter()
    with Archive.open(db) as mem:
        mem.import_paths([str(src)])
    import_s = time.perf_counter() - t
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    result: dict[str, object] = {
        "messages": sum(len(c["messages"]) for c in convs), "conversations": len(convs),
        "text_mb": round(text_bytes / 1e6, 2), "import_s": round(import_s, 2),
        "index_mb": pages_mb(conn, "messages_cjk"), "main_fts_mb": pages_mb(conn, "messages_fts"),
        "titles_index_mb": pages_mb(conn, "conversations_cjk"),
        "db_mb": round(db.stat().st_size / 1e6, 2),
    }
    result["index_vs_text"] = round(float(result["index_mb"]) / float(result["text_mb"]), 2)
    conn.close()
    groups: dict[str, list[float]] = {"cjk": [], "mixed": [], "latin": []}
    hits: dict[str, int] = {}
    with Archive.open(db) as mem:
        for q in QUERIES:
            best = float("inf")
            for _ in range(3):
                t = time.perf_counter()
                found = mem.search(q, limit=20)
                best = min(best, (time.perf_counter() - t) * 1000)
            hits[q] = len(found)
            parsed = [w for w in q.split()]
            kind = ("latin" if all(w.isascii() for w in parsed)
                    else "mixed" if any(w.isascii() for w in parsed) else "cjk")
            groups[kind].append(best)
    result["search_ms"] = {k: {"n": len(v), "p50": pct(v, 50), "p95": pct(v, 95),
                               "mean": round(statistics.mean(v), 2)} for k, v in groups.items()}
    result["zero_hit_queries"] = [q for q, n in hits.items() if n == 0]
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    sys.exit(main())
