//! sqlx on SQLite with a connection pool, on gort through the tokio shim: sqlx runs each SQLite
//! connection on a worker thread of its own and talks to it over channels, with the pool's
//! acquire timeouts and idle handling on tokio's timers.

use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::Row;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_pool_creates_inserts_and_counts_across_concurrent_tasks() {
    let dir = std::env::temp_dir().join(format!("gort-ecosystem-sqlx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let options = SqliteConnectOptions::new()
        .filename(dir.join("db.sqlite"))
        .create_if_missing(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .unwrap();
    sqlx::query(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, task INTEGER NOT NULL, n INTEGER NOT NULL)",
    )
    .execute(&pool)
    .await
    .unwrap();

    // Eight tasks insert through the pool at once (more tasks than connections).
    let mut tasks = Vec::new();
    for task in 0..8i64 {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..25i64 {
                sqlx::query("INSERT INTO items (task, n) VALUES (?, ?)")
                    .bind(task)
                    .bind(n)
                    .execute(&pool)
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }

    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM items")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 200);
    let row = sqlx::query("SELECT SUM(n) AS total FROM items WHERE task = ?")
        .bind(3i64)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(row.get::<i64, _>("total"), (0..25).sum::<i64>());
    // A bad statement is an error, and the pool goes on serving.
    assert!(sqlx::query("SELECT * FROM missing")
        .execute(&pool)
        .await
        .is_err());
    let again: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM items WHERE task = 7")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(again, 25);
    pool.close().await;
    std::fs::remove_dir_all(&dir).ok();
}
