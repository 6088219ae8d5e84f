//! `gort::fs` as users rely on it: whole-file reads and writes, directories and their
//! listings, renames, copies and links, metadata and existence checks, with std's error kinds
//! on the failure paths. Every test works in a directory of its own under the system's
//! temporary directory, removed when the test ends.

mod fs_support;

use std::collections::BTreeSet;
use std::io::ErrorKind;

use fs_support::Scratch;
use gort::fs;

#[gort::test]
async fn write_then_read_returns_the_bytes_and_the_text() {
    let dir = Scratch::new("write_read");
    let path = dir.join("hello.txt");
    fs::write(&path, "hello, gort\n").await.unwrap();
    assert_eq!(fs::read(&path).await.unwrap(), b"hello, gort\n");
    assert_eq!(fs::read_to_string(&path).await.unwrap(), "hello, gort\n");
    // A second write replaces the contents.
    fs::write(&path, vec![1u8, 2, 3]).await.unwrap();
    assert_eq!(fs::read(&path).await.unwrap(), [1, 2, 3]);
}

#[gort::test]
async fn reading_a_missing_file_is_not_found() {
    let dir = Scratch::new("missing");
    let err = fs::read(dir.join("absent")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = fs::read_to_string(dir.join("absent")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = fs::metadata(dir.join("absent")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[gort::test]
async fn read_to_string_of_bytes_that_are_not_utf8_is_invalid_data() {
    let dir = Scratch::new("not_utf8");
    let path = dir.join("bytes");
    fs::write(&path, [0xff, 0xfe]).await.unwrap();
    let err = fs::read_to_string(&path).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData);
}

#[gort::test]
async fn create_dir_needs_its_parent_and_create_dir_all_makes_it() {
    let dir = Scratch::new("create_dir");
    let deep = dir.join("a/b/c");
    let err = fs::create_dir(&deep).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    fs::create_dir_all(&deep).await.unwrap();
    assert!(fs::metadata(&deep).await.unwrap().is_dir());
    // Again is fine for create_dir_all, an error for create_dir.
    fs::create_dir_all(&deep).await.unwrap();
    let err = fs::create_dir(&deep).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
}

#[gort::test]
async fn dir_builder_recursive_and_mode() {
    let dir = Scratch::new("dir_builder");
    let nested = dir.join("x/y");
    let err = fs::DirBuilder::new().create(&nested).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(0o700);
    builder.create(&nested).await.unwrap();
    let meta = fs::metadata(&nested).await.unwrap();
    assert!(meta.is_dir());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // A umask only clears bits, and 0o700 has none a usual umask clears.
        assert_eq!(meta.permissions().mode() & 0o777, 0o700);
    }
}

#[gort::test]
async fn read_dir_lists_every_created_entry_across_batches() {
    let dir = Scratch::new("read_dir");
    // More than two batches of entries, files and directories.
    let mut expected = BTreeSet::new();
    for i in 0..70 {
        let name = format!("file{i:02}");
        fs::write(dir.join(&name), [i as u8]).await.unwrap();
        expected.insert(name);
    }
    fs::create_dir(dir.join("sub")).await.unwrap();
    expected.insert("sub".to_owned());

    let mut listing = fs::read_dir(&dir.path).await.unwrap();
    let mut seen = BTreeSet::new();
    while let Some(entry) = listing.next_entry().await.unwrap() {
        let name = entry.file_name().into_string().unwrap();
        assert_eq!(entry.path(), dir.join(&name));
        let file_type = entry.file_type().await.unwrap();
        let meta = entry.metadata().await.unwrap();
        assert_eq!(file_type.is_dir(), name == "sub");
        assert_eq!(meta.is_dir(), name == "sub");
        if name != "sub" {
            assert_eq!(meta.len(), 1);
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            assert_eq!(entry.ino(), meta.ino());
        }
        assert!(seen.insert(name), "an entry was listed twice");
    }
    assert_eq!(seen, expected);
    // The end is sticky.
    assert!(listing.next_entry().await.unwrap().is_none());
}

#[gort::test]
async fn read_dir_through_poll_next_entry() {
    let dir = Scratch::new("poll_next_entry");
    fs::write(dir.join("only"), "x").await.unwrap();
    let mut listing = fs::read_dir(&dir.path).await.unwrap();
    let first = std::future::poll_fn(|cx| listing.poll_next_entry(cx)).await;
    assert_eq!(first.unwrap().unwrap().file_name(), "only");
    let end = std::future::poll_fn(|cx| listing.poll_next_entry(cx)).await;
    assert!(end.unwrap().is_none());
}

#[gort::test]
async fn read_dir_of_a_missing_directory_is_not_found() {
    let dir = Scratch::new("read_dir_missing");
    let err = fs::read_dir(dir.join("absent")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[gort::test]
async fn rename_moves_and_replaces() {
    let dir = Scratch::new("rename");
    let (from, to) = (dir.join("from"), dir.join("to"));
    fs::write(&from, "new").await.unwrap();
    fs::write(&to, "old").await.unwrap();
    fs::rename(&from, &to).await.unwrap();
    assert_eq!(fs::read_to_string(&to).await.unwrap(), "new");
    assert!(!fs::try_exists(&from).await.unwrap());
    let err = fs::rename(&from, &to).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[gort::test]
async fn copy_duplicates_the_contents_and_returns_the_length() {
    let dir = Scratch::new("copy");
    let (from, to) = (dir.join("from"), dir.join("to"));
    fs::write(&from, "copied bytes").await.unwrap();
    assert_eq!(fs::copy(&from, &to).await.unwrap(), 12);
    assert_eq!(fs::read_to_string(&to).await.unwrap(), "copied bytes");
    // The copy is independent of the original.
    fs::write(&from, "changed").await.unwrap();
    assert_eq!(fs::read_to_string(&to).await.unwrap(), "copied bytes");
}

#[gort::test]
async fn hard_link_shares_the_file() {
    let dir = Scratch::new("hard_link");
    let (original, link) = (dir.join("original"), dir.join("link"));
    fs::write(&original, "one").await.unwrap();
    fs::hard_link(&original, &link).await.unwrap();
    fs::write(&original, "two").await.unwrap();
    assert_eq!(fs::read_to_string(&link).await.unwrap(), "two");
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        assert_eq!(fs::metadata(&link).await.unwrap().nlink(), 2);
    }
    let err = fs::hard_link(&original, &link).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
}

#[cfg(unix)]
#[gort::test]
async fn symlink_read_link_symlink_metadata_and_canonicalize() {
    let dir = Scratch::new("symlink");
    let target = dir.join("target");
    let link = dir.join("link");
    fs::write(&target, "pointed at").await.unwrap();
    fs::symlink(&target, &link).await.unwrap();

    assert_eq!(fs::read_link(&link).await.unwrap(), target);
    assert!(fs::symlink_metadata(&link)
        .await
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(fs::metadata(&link).await.unwrap().is_file());
    assert_eq!(fs::read_to_string(&link).await.unwrap(), "pointed at");
    let canonical_target = std::fs::canonicalize(&target).unwrap();
    assert_eq!(fs::canonicalize(&link).await.unwrap(), canonical_target);
    let dotted = dir.join("sub/../link");
    fs::create_dir(dir.join("sub")).await.unwrap();
    assert_eq!(fs::canonicalize(&dotted).await.unwrap(), canonical_target);

    let err = fs::read_link(&target).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let err = fs::canonicalize(dir.join("absent")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[gort::test]
async fn try_exists_tells_present_from_absent() {
    let dir = Scratch::new("try_exists");
    let path = dir.join("here");
    assert!(!fs::try_exists(&path).await.unwrap());
    fs::write(&path, "").await.unwrap();
    assert!(fs::try_exists(&path).await.unwrap());
    assert!(fs::try_exists(&dir.path).await.unwrap());
    #[cfg(unix)]
    {
        // A dangling link names nothing.
        fs::symlink(dir.join("nowhere"), dir.join("dangling"))
            .await
            .unwrap();
        assert!(!fs::try_exists(dir.join("dangling")).await.unwrap());
    }
}

#[gort::test]
async fn remove_file_remove_dir_and_remove_dir_all() {
    let dir = Scratch::new("remove");
    let tree = dir.join("tree");
    fs::create_dir_all(tree.join("a/b")).await.unwrap();
    fs::write(tree.join("a/b/leaf"), "x").await.unwrap();
    fs::write(tree.join("top"), "y").await.unwrap();

    let err = fs::remove_dir(&tree).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DirectoryNotEmpty);
    fs::remove_file(tree.join("top")).await.unwrap();
    assert!(!fs::try_exists(tree.join("top")).await.unwrap());
    let err = fs::remove_file(tree.join("top")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);

    fs::remove_dir_all(&tree).await.unwrap();
    assert!(!fs::try_exists(&tree).await.unwrap());
    fs::create_dir(&tree).await.unwrap();
    fs::remove_dir(&tree).await.unwrap();
    assert!(!fs::try_exists(&tree).await.unwrap());
}

#[gort::test]
async fn metadata_reports_the_length_and_kind() {
    let dir = Scratch::new("metadata");
    let path = dir.join("sized");
    fs::write(&path, vec![0u8; 4321]).await.unwrap();
    let meta = fs::metadata(&path).await.unwrap();
    assert!(meta.is_file());
    assert_eq!(meta.len(), 4321);
    assert!(fs::metadata(&dir.path).await.unwrap().is_dir());
}

#[gort::test]
async fn set_permissions_makes_a_file_read_only() {
    let dir = Scratch::new("set_permissions");
    let path = dir.join("guarded");
    fs::write(&path, "x").await.unwrap();
    let writable = fs::metadata(&path).await.unwrap().permissions();
    let mut read_only = writable.clone();
    read_only.set_readonly(true);
    fs::set_permissions(&path, read_only).await.unwrap();
    assert!(fs::metadata(&path).await.unwrap().permissions().readonly());
    fs::set_permissions(&path, writable).await.unwrap();
    assert!(!fs::metadata(&path).await.unwrap().permissions().readonly());
}

#[test]
fn free_functions_work_from_a_plain_thread_through_block_on() {
    let dir = Scratch::new("block_on");
    let path = dir.join("plain");
    gort::block_on(async {
        fs::write(&path, "from block_on").await.unwrap();
        assert_eq!(fs::read_to_string(&path).await.unwrap(), "from block_on");
    });
}
