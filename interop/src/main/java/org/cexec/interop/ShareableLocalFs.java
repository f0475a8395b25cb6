package org.cexec.interop;

import java.io.IOException;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.util.Progressable;

/**
 * The job client's view of the local file system. On a real cluster the submitter's client
 * writes the application's files as the submitter, on HDFS. Here the client runs inside the
 * NodeManager user's JVM, so its files belong to that Unix user, and distributed shell writes its
 * command file 0710: the localizer, running as the application user, could not read it. This
 * file system (used only by the clients' configuration, never by the NodeManager) makes what the
 * client writes readable by others: files at least 0644, dirs at least 0755.
 */
public class ShareableLocalFs extends LocalFileSystem {
  public ShareableLocalFs() {
    super(new Raw());
  }

  static final class Raw extends RawLocalFileSystem {
    private static FsPermission wide(FsPermission p, int floor) {
      return p == null ? null : new FsPermission((short) ((p.toShort() | floor) & 0777));
    }

    @Override
    public void setPermission(Path p, FsPermission permission) throws IOException {
      super.setPermission(p, wide(permission, getFileStatus(p).isDirectory() ? 0755 : 0644));
    }

    @Override
    public boolean mkdirs(Path f, FsPermission permission) throws IOException {
      return super.mkdirs(f, wide(permission, 0755));
    }

    @Override
    public FSDataOutputStream create(Path f, FsPermission permission, boolean overwrite,
        int bufferSize, short replication, long blockSize, Progressable progress) throws IOException {
      return super.create(f, wide(permission, 0644), overwrite, bufferSize, replication, blockSize,
          progress);
    }
  }
}
