package org.cexec.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.PrivilegedExceptionAction;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.security.UserGroupInformation;
import org.apache.hadoop.yarn.api.records.ApplicationId;
import org.apache.hadoop.yarn.api.records.ApplicationReport;
import org.apache.hadoop.yarn.api.records.YarnApplicationState;
import org.apache.hadoop.yarn.applications.distributedshell.ApplicationMaster;
import org.apache.hadoop.yarn.applications.distributedshell.Client;
import org.apache.hadoop.yarn.client.api.YarnClient;
import org.apache.hadoop.yarn.server.MiniYARNCluster;
import org.apache.hadoop.yarn.server.nodemanager.LinuxContainerExecutor;
import org.apache.hadoop.yarn.server.nodemanager.NodeManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Level 2: a MiniYARNCluster (ResourceManager + one real NodeManager) whose NodeManager runs every
 * container through LinuxContainerExecutor and our binary; distributed-shell applications are
 * submitted as an application user.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
public class ClusterTest {
  private MiniYARNCluster cluster;
  private YarnClient yarn;
  private String alice;
  private String bob;
  private final ExecutorService pool = Executors.newCachedThreadPool();

  @BeforeAll
  void start() throws Exception {
    alice = Interop.userA();
    bob = Interop.userB();
    Interop.binary();
    cluster = new MiniYARNCluster("cexec-ds", 1, 1, 2, 2);
    cluster.init(Interop.clusterConf());
    cluster.start();
    assertTrue(cluster.waitForNodeManagersToConnect(120_000), "the NodeManager did not register");
    NodeManager nm = cluster.getNodeManager(0);
    assertTrue(nm.getNMContext().getContainerExecutor() instanceof LinuxContainerExecutor,
        "the NodeManager's executor is " + nm.getNMContext().getContainerExecutor());
    Interop.publishConf(cluster.getConfig());
    yarn = YarnClient.createYarnClient();
    yarn.init(new Configuration(cluster.getConfig()));
    yarn.start();
  }

  @AfterAll
  void stop() throws Exception {
    Interop.unpublishConf();
    if (yarn != null) {
      yarn.stop();
    }
    if (cluster != null) {
      cluster.stop();
    }
    pool.shutdownNow();
  }

  @Test
  @Order(1)
  void distributedShellRunsAsTheSubmitter() throws Exception {
    int before = Interop.argvLog().size();
    boolean ok = runShell(alice, "id -un", 2, new ArrayList<>());
    ApplicationReport app = lastApp(alice);
    assertTrue(ok, "distributed shell did not succeed: " + app.getDiagnostics());
    assertEquals(YarnApplicationState.FINISHED, app.getYarnApplicationState());
    ApplicationId id = app.getApplicationId();

    // Every shell container printed the application user; its log dir is the user's.
    List<Path> stdouts = containerFiles(id, "stdout");
    int shells = 0;
    for (Path out : stdouts) {
      if (out.getParent().getFileName().toString().endsWith("_000001")) {
        continue; // the ApplicationMaster
      }
      shells++;
      assertEquals(alice, Interop.read(out).trim(), "id -un in " + out);
      assertEquals(alice, Interop.attrs(out.getParent()).owner().getName(), "owner of " + out.getParent());
    }
    assertEquals(2, shells, "shell containers' stdout files: " + stdouts);

    // The NodeManager ran initialize and launch for this user through the binary (the AM's
    // launch returns a moment after the ResourceManager reports the application finished).
    String init = alice + " " + alice + " 0 " + id + " ";
    String launch = alice + " " + alice + " 1 " + id + " ";
    Interop.waitFor("the AM's and both shells' launches to return 0", 60_000, () -> {
      try {
        List<String> c = Interop.argvLog();
        return c.stream().filter(l -> l.startsWith(launch) && l.endsWith("=> 0")).count() >= 3;
      } catch (IOException e) {
        return false;
      }
    });
    List<String> calls = Interop.argvLog().subList(before, Interop.argvLog().size());
    assertTrue(calls.stream().anyMatch(l -> l.startsWith(init) && l.endsWith("=> 0")),
        "no initialize for " + id + ": " + calls);

    assertAppDirsGone(id, alice);
  }

  @Test
  @Order(2)
  void killedApplicationHasItsContainersSignalled() throws Exception {
    List<String> clientErrors = new ArrayList<>();
    int before = Interop.argvLog().size();
    Future<Boolean> client = pool.submit(() -> runShell(bob, "sleep 600", 2, clientErrors));
    ApplicationId id = null;
    long end = System.currentTimeMillis() + 180_000;
    while (System.currentTimeMillis() < end && !client.isDone()) {
      ApplicationReport r = lastAppOrNull(bob);
      if (r != null && r.getYarnApplicationState() == YarnApplicationState.RUNNING
          && runningLaunches(before, r.getApplicationId()) >= 3) {
        id = r.getApplicationId();
        break;
      }
      Thread.sleep(500);
    }
    if (id == null) {
      fail("the long-running application never had 3 running containers; client done="
          + client.isDone() + " errors=" + clientErrors + " calls=" + Interop.argvLog().subList(before,
          Interop.argvLog().size()));
    }
    assertFalse(Interop.processesOf(bob).isEmpty(), "no process of " + bob + " runs");
    int mark = Interop.argvLog().size();
    yarn.killApplication(id);
    final ApplicationId killed = id;
    final ApplicationId appId = id;
    Interop.waitFor("application " + id + " KILLED", 60_000, () -> {
      try {
        return yarn.getApplicationReport(killed).getYarnApplicationState() == YarnApplicationState.KILLED;
      } catch (Exception e) {
        return false;
      }
    });
    try {
      client.get(120, TimeUnit.SECONDS);
    } catch (Exception e) {
      clientErrors.add(e.toString());
    }
    // The NodeManager stopped each container through the binary: SIGTERM to its process group.
    Interop.waitFor("every launch of " + id + " to return", 60_000, () -> {
      try {
        return runningLaunches(before, killed) == 0;
      } catch (IOException e) {
        return false;
      }
    });
    List<String> after = Interop.argvLog().subList(mark, Interop.argvLog().size());
    long terms = after.stream().filter(l -> l.startsWith(bob + " " + bob + " 2 ") && l.contains(" 15 =>")).count();
    assertTrue(terms >= 3, "SIGTERMs sent after the kill: " + after);
    List<String> launches = Interop.argvLog().subList(before, Interop.argvLog().size());
    long killedOnRequest = launches.stream().filter(l -> l.startsWith(bob + " " + bob + " 1 " + appId + " ")
        && (l.endsWith("=> 143") || l.endsWith("=> 137"))).count();
    assertTrue(killedOnRequest >= 3, "launch exit codes of the killed containers: " + launches);
    Interop.waitFor("no process of " + bob + " left", 30_000, () -> {
      try {
        return Interop.processesOf(bob).isEmpty();
      } catch (IOException e) {
        return false;
      }
    });
    assertAppDirsGone(id, bob);
  }

  /** Containers of the application the binary started (pid file written) that have not exited. */
  private int runningLaunches(int from, ApplicationId id) throws IOException {
    int running = 0;
    for (String l : cluster.getNodeManager(0).getNMContext().getLocalDirsHandler().getLocalDirs()) {
      Path priv = Paths.get(l, "nmPrivate", id.toString());
      if (Files.isDirectory(priv)) {
        try (java.util.stream.Stream<Path> s = Files.walk(priv)) {
          running += (int) s.filter(p -> p.toString().endsWith(".pid")
              && !Files.exists(Paths.get(p + ".exitcode"))).count();
        } catch (java.io.UncheckedIOException gone) {
          // a container dir removed while walking
        }
      }
    }
    return running;
  }

  private boolean runShell(String user, String command, int containers, List<String> errors)
      throws Exception {
    String jar = new File(ApplicationMaster.class.getProtectionDomain().getCodeSource().getLocation()
        .toURI()).getPath();
    Configuration cc = new Configuration(cluster.getConfig());
    cc.set("fs.file.impl", ShareableLocalFs.class.getName());
    cc.setBoolean("fs.file.impl.disable.cache", true);
    Client client = new Client(cc);
    String[] args = {
      "--jar", jar, "--shell_command", command, "--num_containers", Integer.toString(containers),
      "--master_memory", "256", "--master_vcores", "1", "--container_memory", "128",
      "--container_vcores", "1", "--timeout", "300000", "--appname", "cexec-" + user,
    };
    assertTrue(client.init(args), "distributed shell client refused its arguments");
    try {
      return UserGroupInformation.createRemoteUser(user)
          .doAs((PrivilegedExceptionAction<Boolean>) client::run);
    } catch (Exception e) {
      errors.add(e.toString());
      throw e;
    }
  }

  private ApplicationReport lastAppOrNull(String user) throws Exception {
    ApplicationReport last = null;
    for (ApplicationReport r : yarn.getApplications(EnumSet.allOf(YarnApplicationState.class))) {
      if (r.getUser().equals(user) && (last == null
          || r.getApplicationId().compareTo(last.getApplicationId()) > 0)) {
        last = r;
      }
    }
    return last;
  }

  private ApplicationReport lastApp(String user) throws Exception {
    ApplicationReport r = lastAppOrNull(user);
    if (r == null) {
      fail("the ResourceManager has no application of " + user);
    }
    return r;
  }

  private List<Path> containerFiles(ApplicationId id, String name) throws IOException {
    List<Path> out = new ArrayList<>();
    for (String l : cluster.getNodeManager(0).getNMContext().getLocalDirsHandler().getLogDirs()) {
      Path appLogs = Paths.get(l, id.toString());
      if (!Files.isDirectory(appLogs)) {
        continue;
      }
      try (java.util.stream.Stream<Path> cs = Files.list(appLogs)) {
        for (Path c : (Iterable<Path>) cs::iterator) {
          if (Files.exists(c.resolve(name))) {
            out.add(c.resolve(name));
          }
        }
      }
    }
    return out;
  }

  /** After the application, the NM deletes usercache/<user>/appcache/<app> from every local dir. */
  private void assertAppDirsGone(ApplicationId id, String user) throws Exception {
    List<String> locals = cluster.getNodeManager(0).getNMContext().getLocalDirsHandler().getLocalDirs();
    assertEquals(2, locals.size(), "local dirs " + locals);
    for (String l : locals) {
      Path app = Paths.get(l, "usercache", user, "appcache", id.toString());
      Interop.waitFor(app + " to be deleted", 60_000,
          () -> !Files.exists(app, LinkOption.NOFOLLOW_LINKS));
      assertTrue(Files.isDirectory(Paths.get(l, "usercache", user, "appcache")),
          "appcache of " + user + " itself is gone in " + l);
    }
  }
}
