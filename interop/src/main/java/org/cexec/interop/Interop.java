package org.cexec.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.apache.hadoop.yarn.api.records.ContainerId;
import org.apache.hadoop.yarn.api.records.ContainerLaunchContext;
import org.apache.hadoop.yarn.api.records.Resource;
import org.apache.hadoop.yarn.server.nodemanager.containermanager.container.Container;
import org.apache.hadoop.yarn.server.nodemanager.containermanager.container.ContainerDiagnosticsUpdateEvent;

/** What interop/run passes in, and small on-disk helpers. Anything missing fails loudly. */
final class Interop {
  private Interop() {}

  static String prop(String name) {
    String v = System.getProperty("cexec." + name);
    if (v == null || v.isEmpty()) {
      fail("system property cexec." + name + " is not set: run the suite through interop/run (as root)");
    }
    return v;
  }

  /** The path the NodeManager is configured with (the recording front of the real binary). */
  static String binary() {
    String b = prop("binary");
    if (!Files.isExecutable(Paths.get(b))) {
      fail("container-executor " + b + " is not executable by " + System.getProperty("user.name"));
    }
    return b;
  }

  static String nmUser() { return prop("nmUser"); }
  static String group() { return prop("group"); }
  static String userA() { return prop("userA"); }
  static String userB() { return prop("userB"); }
  static Path prefix() { return Paths.get(prop("prefix")); }
  static Path shared() { return Paths.get(prop("shared")); }

  static PosixFileAttributes attrs(Path p) throws IOException {
    return Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
  }

  static int mode(Path p) throws IOException {
    Object m = Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    return ((Integer) m) & 07777;
  }

  /** Owner, group and mode (with setuid/setgid/sticky bits) of p, as ls would show them. */
  static void assertOwned(Path p, String owner, String group, int mode) throws IOException {
    assertTrue(Files.exists(p, LinkOption.NOFOLLOW_LINKS), p + " does not exist");
    PosixFileAttributes a = attrs(p);
    assertEquals(owner + ":" + group + " " + Integer.toOctalString(mode),
        a.owner().getName() + ":" + a.group().getName() + " " + Integer.toOctalString(mode(p)),
        "owner:group mode of " + p);
  }

  static String read(Path p) throws IOException {
    return new String(Files.readAllBytes(p), StandardCharsets.UTF_8);
  }

  static void waitFor(String what, long millis, BooleanSupplier ok) throws InterruptedException {
    long end = System.currentTimeMillis() + millis;
    while (!ok.getAsBoolean()) {
      if (System.currentTimeMillis() > end) {
        fail("timed out after " + millis + " ms waiting for " + what);
      }
      Thread.sleep(100);
    }
  }

  /** Lines the recording front wrote so far: "<time> <argv...> => <exit code>". */
  static List<String> argvLog() throws IOException {
    Path log = Paths.get(prop("argvLog"));
    if (!Files.exists(log)) {
      return Collections.emptyList();
    }
    List<String> out = new ArrayList<>();
    for (String l : Files.readAllLines(log, StandardCharsets.UTF_8)) {
      int sp = l.indexOf(' ');
      out.add(sp < 0 ? l : l.substring(sp + 1));
    }
    return out;
  }

  /** The exit code of the last recorded call whose argv contains every given word. */
  static int lastExit(String... words) throws IOException {
    List<String> log = argvLog();
    for (int i = log.size() - 1; i >= 0; i--) {
      String l = log.get(i);
      boolean all = true;
      for (String w : words) {
        all &= l.contains(w);
      }
      if (all) {
        return Integer.parseInt(l.substring(l.lastIndexOf("=> ") + 3).trim());
      }
    }
    fail("no recorded container-executor call contains " + String.join(" ", words) + "; log: " + log);
    return -1;
  }

  /**
   * A NodeManager Container as the executor sees it: id, user, launch context, resource,
   * localized resources; the diagnostics it is sent are collected in diags.
   */
  static Container container(ContainerId id, String user, ContainerLaunchContext clc,
      Map<org.apache.hadoop.fs.Path, List<String>> localized, List<String> diags) {
    return (Container) Proxy.newProxyInstance(Interop.class.getClassLoader(),
        new Class<?>[] {Container.class}, (proxy, m, args) -> {
          switch (m.getName()) {
            case "getContainerId": return id;
            case "getUser": return user;
            case "getLaunchContext": return clc;
            case "getResource": return Resource.newInstance(256, 1);
            case "getLocalizedResources": return localized;
            case "handle":
              if (args[0] instanceof ContainerDiagnosticsUpdateEvent) {
                diags.add(((ContainerDiagnosticsUpdateEvent) args[0]).getDiagnosticsUpdate());
              }
              return null;
            case "toString": return "Container[" + id + "]";
            case "hashCode": return id.hashCode();
            case "equals": return proxy == args[0];
            default:
              Class<?> r = m.getReturnType();
              if (r == boolean.class) return false;
              if (r == int.class || r == long.class) return 0;
              return null;
          }
        });
  }

  /**
   * A cluster configuration whose NodeManager runs containers through LinuxContainerExecutor and
   * our binary, with the resource checks a 2-core shared machine cannot meet switched off.
   */
  static org.apache.hadoop.yarn.conf.YarnConfiguration clusterConf() {
    org.apache.hadoop.yarn.conf.YarnConfiguration c = new org.apache.hadoop.yarn.conf.YarnConfiguration();
    c.set(org.apache.hadoop.yarn.conf.YarnConfiguration.NM_CONTAINER_EXECUTOR,
        org.apache.hadoop.yarn.server.nodemanager.LinuxContainerExecutor.class.getName());
    c.set(org.apache.hadoop.yarn.conf.YarnConfiguration.NM_LINUX_CONTAINER_EXECUTOR_PATH, binary());
    c.setBoolean(org.apache.hadoop.yarn.conf.YarnConfiguration.NM_NONSECURE_MODE_LIMIT_USERS, false);
    c.set("yarn.nodemanager.linux-container-executor.group", group());
    c.setBoolean(org.apache.hadoop.yarn.conf.YarnConfiguration.NM_PMEM_CHECK_ENABLED, false);
    c.setBoolean(org.apache.hadoop.yarn.conf.YarnConfiguration.NM_VMEM_CHECK_ENABLED, false);
    c.setFloat(org.apache.hadoop.yarn.conf.YarnConfiguration.NM_MAX_PER_DISK_UTILIZATION_PERCENTAGE, 100.0f);
    c.setLong(org.apache.hadoop.yarn.conf.YarnConfiguration.NM_MIN_PER_DISK_FREE_SPACE_MB, 0);
    c.setInt(org.apache.hadoop.yarn.conf.YarnConfiguration.RM_SCHEDULER_MINIMUM_ALLOCATION_MB, 128);
    c.setInt(org.apache.hadoop.yarn.conf.YarnConfiguration.YARN_MINICLUSTER_NM_PMEM_MB, 4096);
    c.setBoolean(org.apache.hadoop.yarn.conf.YarnConfiguration.TIMELINE_SERVICE_ENABLED, false);
    c.setInt(org.apache.hadoop.yarn.conf.YarnConfiguration.DEBUG_NM_DELETE_DELAY_SEC, 0);
    return c;
  }

  /** Writes a running cluster's configuration as yarn-site.xml into the classpath's conf dir. */
  static void publishConf(org.apache.hadoop.conf.Configuration c) throws IOException {
    Path dir = Paths.get(prop("conf"));
    Path tmp = dir.resolve("yarn-site.xml.tmp");
    try (java.io.OutputStream out = Files.newOutputStream(tmp)) {
      c.writeXml(out);
    }
    Files.setPosixFilePermissions(tmp, perms("rw-r--r--"));
    Files.move(tmp, dir.resolve("yarn-site.xml"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  static void unpublishConf() throws IOException {
    Files.deleteIfExists(Paths.get(prop("conf")).resolve("yarn-site.xml"));
  }

  /** Pids of live processes whose real uid is the given user's. */
  static List<String> processesOf(String user) throws IOException {
    int uid = (Integer) Files.getAttribute(Paths.get("/proc/self"), "unix:uid");
    String want = null;
    for (String l : Files.readAllLines(Paths.get("/etc/passwd"))) {
      String[] f = l.split(":");
      if (f.length > 2 && f[0].equals(user)) {
        want = f[2];
      }
    }
    if (want == null) {
      fail("no passwd entry for " + user);
    }
    List<String> out = new ArrayList<>();
    try (java.util.stream.Stream<Path> ps = Files.list(Paths.get("/proc"))) {
      for (Path p : (Iterable<Path>) ps::iterator) {
        String n = p.getFileName().toString();
        if (!n.matches("[0-9]+")) {
          continue;
        }
        try {
          for (String l : Files.readAllLines(p.resolve("status"))) {
            if (l.startsWith("Uid:") && l.split("\\s+")[1].equals(want)) {
              out.add(n + " " + read(p.resolve("cmdline")).replace('\0', ' '));
            }
          }
        } catch (IOException gone) {
          // exited meanwhile
        }
      }
    }
    assertTrue(uid >= 0);
    return out;
  }

  /** The NodeManager context as LinuxContainerExecutor.init reads it: conf, no resource plugins. */
  static org.apache.hadoop.yarn.server.nodemanager.Context nmContext(
      org.apache.hadoop.conf.Configuration conf) {
    org.apache.hadoop.yarn.server.nodemanager.containermanager.resourceplugin.ResourcePluginManager
        plugins = new org.apache.hadoop.yarn.server.nodemanager.containermanager.resourceplugin
            .ResourcePluginManager();
    return (org.apache.hadoop.yarn.server.nodemanager.Context) Proxy.newProxyInstance(
        Interop.class.getClassLoader(),
        new Class<?>[] {org.apache.hadoop.yarn.server.nodemanager.Context.class},
        (proxy, m, args) -> {
          switch (m.getName()) {
            case "getResourcePluginManager": return plugins;
            case "getConf": return conf;
            case "toString": return "interop NM context";
            case "hashCode": return 1;
            case "equals": return proxy == args[0];
            default:
              Class<?> r = m.getReturnType();
              if (r == boolean.class) return false;
              if (r == int.class || r == long.class) return 0;
              return null;
          }
        });
  }

  static java.util.Set<PosixFilePermission> perms(String s) {
    return java.nio.file.attribute.PosixFilePermissions.fromString(s);
  }
}
