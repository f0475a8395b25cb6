package org.cexec.interop;

import static org.cexec.interop.Interop.assertOwned;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.ipc.Server;
import org.apache.hadoop.net.NetUtils;
import org.apache.hadoop.security.Credentials;
import org.apache.hadoop.yarn.api.records.ApplicationAttemptId;
import org.apache.hadoop.yarn.api.records.ApplicationId;
import org.apache.hadoop.yarn.api.records.ContainerId;
import org.apache.hadoop.yarn.api.records.ContainerLaunchContext;
import org.apache.hadoop.yarn.api.records.LocalResource;
import org.apache.hadoop.yarn.api.records.LocalResourceType;
import org.apache.hadoop.yarn.api.records.LocalResourceVisibility;
import org.apache.hadoop.yarn.api.records.URL;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.factories.RecordFactory;
import org.apache.hadoop.yarn.factory.providers.RecordFactoryProvider;
import org.apache.hadoop.yarn.ipc.YarnRPC;
import org.apache.hadoop.yarn.server.nodemanager.ContainerExecutor;
import org.apache.hadoop.yarn.server.nodemanager.LinuxContainerExecutor;
import org.apache.hadoop.yarn.server.nodemanager.LocalDirsHandlerService;
import org.apache.hadoop.yarn.server.nodemanager.api.LocalizationProtocol;
import org.apache.hadoop.yarn.server.nodemanager.api.ResourceLocalizationSpec;
import org.apache.hadoop.yarn.server.nodemanager.api.protocolrecords.LocalResourceStatus;
import org.apache.hadoop.yarn.server.nodemanager.api.protocolrecords.LocalizerAction;
import org.apache.hadoop.yarn.server.nodemanager.api.protocolrecords.LocalizerHeartbeatResponse;
import org.apache.hadoop.yarn.server.nodemanager.api.protocolrecords.LocalizerStatus;
import org.apache.hadoop.yarn.server.nodemanager.api.protocolrecords.ResourceStatusType;
import org.apache.hadoop.yarn.server.nodemanager.containermanager.container.Container;
import org.apache.hadoop.yarn.server.nodemanager.executor.ContainerLivenessContext;
import org.apache.hadoop.yarn.server.nodemanager.executor.ContainerReacquisitionContext;
import org.apache.hadoop.yarn.server.nodemanager.executor.ContainerSignalContext;
import org.apache.hadoop.yarn.server.nodemanager.executor.ContainerStartContext;
import org.apache.hadoop.yarn.server.nodemanager.executor.DeletionAsUserContext;
import org.apache.hadoop.yarn.server.nodemanager.executor.LocalizerStartContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Level 1: Hadoop's LinuxContainerExecutor (the NodeManager's own class, unmodified) calls our
 * binary for every operation the NodeManager uses; the results are checked on disk.
 *
 * <p>The tests share one application per user and run in order: localize, launch, signal,
 * reacquire, list, delete.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
public class ExecutorApiTest {
  private static final RecordFactory RF = RecordFactoryProvider.getRecordFactory(null);

  private String alice;
  private String group;
  private String nm;
  private Path nmRoot;
  private List<Path> localRoots;
  private List<Path> logRoots;
  private Configuration conf;
  private LocalDirsHandlerService dirs;
  private LinuxContainerExecutor lce;
  private Server localizerServer;
  private InetSocketAddress localizerAddr;
  private final FakeNodeManager fakeNm = new FakeNodeManager();
  private final ExecutorService pool = Executors.newCachedThreadPool();

  private final long clusterTs = System.currentTimeMillis();
  private ApplicationId app;
  private ApplicationAttemptId attempt;
  private int nextContainer = 1;

  // What the localization test leaves for the later ones.
  private Path localizedFile;
  private Path localizedArchive;

  @BeforeAll
  void setUp() throws Exception {
    alice = Interop.userA();
    group = Interop.group();
    nm = Interop.nmUser();
    assertEquals(nm, System.getProperty("user.name"), "the suite must run as the NodeManager user");
    nmRoot = Interop.prefix().resolve("nm");
    localRoots = Arrays.asList(nmRoot.resolve("local1"), nmRoot.resolve("local2"));
    logRoots = Arrays.asList(nmRoot.resolve("logs1"), nmRoot.resolve("logs2"));

    conf = new YarnConfiguration();
    conf.set(YarnConfiguration.NM_LINUX_CONTAINER_EXECUTOR_PATH, Interop.binary());
    conf.setBoolean(YarnConfiguration.NM_NONSECURE_MODE_LIMIT_USERS, false);
    conf.set("yarn.nodemanager.linux-container-executor.group", group);
    conf.set(YarnConfiguration.NM_LOCAL_DIRS, join(localRoots));
    conf.set(YarnConfiguration.NM_LOG_DIRS, join(logRoots));
    conf.setFloat(YarnConfiguration.NM_MAX_PER_DISK_UTILIZATION_PERCENTAGE, 100.0f);
    conf.setLong(YarnConfiguration.NM_MIN_PER_DISK_FREE_SPACE_MB, 0);
    conf.set(YarnConfiguration.NM_LOCALIZER_ADDRESS, "127.0.0.1:0");

    dirs = new LocalDirsHandlerService();
    dirs.init(conf);
    assertEquals(2, dirs.getLocalDirs().size(), "local dirs the NM considers good: " + dirs.getLocalDirs());

    // What ResourceLocalizationService creates at start-up in every local dir.
    for (Path l : localRoots) {
      mkdir(l.resolve(ContainerLocalizerNames.USERCACHE), "rwxr-xr-x");
      mkdir(l.resolve(ContainerLocalizerNames.FILECACHE), "rwxr-xr-x");
      mkdir(l.resolve("nmPrivate"), "rwx------");
    }

    lce = newExecutor();

    // The NodeManager side of the localizer protocol: a real Hadoop RPC server that the real
    // ContainerLocalizer heartbeats to.
    YarnRPC rpc = YarnRPC.create(conf);
    localizerServer = rpc.getServer(LocalizationProtocol.class, fakeNm,
        new InetSocketAddress("127.0.0.1", 0), conf, null, 2);
    localizerServer.start();
    localizerAddr = NetUtils.getConnectAddress(localizerServer);

    app = ApplicationId.newInstance(clusterTs, 1);
    attempt = ApplicationAttemptId.newInstance(app, 1);
  }

  @AfterAll
  void tearDown() {
    if (localizerServer != null) {
      localizerServer.stop();
    }
    pool.shutdownNow();
  }

  private LinuxContainerExecutor newExecutor() throws IOException {
    LinuxContainerExecutor e = new LinuxContainerExecutor();
    e.setConf(conf);
    e.init(Interop.nmContext(conf));
    return e;
  }

  // ------------------------------------------------------------------------------------------
  // init: --checksetup
  // ------------------------------------------------------------------------------------------

  @Test
  @Order(1)
  void initRunsChecksetup() throws Exception {
    int before = Interop.argvLog().size();
    LinuxContainerExecutor e = newExecutor(); // init() sends --checksetup and throws on failure
    assertNotNull(e);
    List<String> log = Interop.argvLog();
    assertTrue(log.size() > before, "init() did not call the binary");
    assertEquals("--checksetup => 0", log.get(log.size() - 1));
  }

  // ------------------------------------------------------------------------------------------
  // startLocalizer: Hadoop's ContainerLocalizer JVM, as the application user
  // ------------------------------------------------------------------------------------------

  @Test
  @Order(10)
  void startLocalizerLocalizesIntoTheUsersFilecache() throws Exception {
    // Two resources the application user may read: a file and a zip archive of two files.
    Path src = Files.createDirectories(Interop.shared().resolve("l1-src"));
    Path dataFile = src.resolve("data.txt");
    Files.write(dataFile, "interop data\n".getBytes(StandardCharsets.UTF_8));
    Path zip = src.resolve("libs.zip");
    try (ZipOutputStream z = new ZipOutputStream(new FileOutputStream(zip.toFile()))) {
      for (String n : new String[] {"a.txt", "b.txt"}) {
        z.putNextEntry(new ZipEntry(n));
        z.write(("content of " + n + "\n").getBytes(StandardCharsets.UTF_8));
        z.closeEntry();
      }
    }
    Path userFilecache = localRoots.get(0).resolve("usercache").resolve(alice).resolve("filecache");
    Path dest1 = userFilecache.resolve("10");
    Path dest2 = userFilecache.resolve("11");
    String locId = containerId(nextContainer++).toString();
    fakeNm.offer(locId, Arrays.asList(
        spec(resource(dataFile, LocalResourceType.FILE), dest1),
        spec(resource(zip, LocalResourceType.ARCHIVE), dest2)));

    org.apache.hadoop.fs.Path tokens = writeTokens(locId);
    lce.startLocalizer(new LocalizerStartContext.Builder()
        .setNmPrivateContainerTokens(tokens)
        .setNmAddr(localizerAddr)
        .setUser(alice)
        .setAppId(app.toString())
        .setLocId(locId)
        .setDirsHandler(dirs)
        .build());
    assertEquals(0, Interop.lastExit(" 0 " + app + " " + locId + " "),
        "exit code of the initialize command");

    List<LocalResourceStatus> done = fakeNm.finished(locId);
    assertEquals(2, done.size(), "resources the localizer reported: " + fakeNm.describe(locId));
    for (LocalResourceStatus st : done) {
      assertEquals(ResourceStatusType.FETCH_SUCCESS, st.getStatus(),
          "localizer status " + st.getException());
    }

    // The layout initialize made, in every local dir and log dir.
    for (Path l : localRoots) {
      Path userDir = l.resolve("usercache").resolve(alice);
      assertOwned(userDir, alice, group, 02750);
      // Hadoop's initialize_user makes filecache 0710; appcache comes from mkdirs.
      assertOwned(userDir.resolve("filecache"), alice, group, 0710);
      assertEquals(alice + ":" + group,
          Interop.attrs(userDir.resolve("appcache")).owner().getName() + ":"
              + Interop.attrs(userDir.resolve("appcache")).group().getName());
      assertEquals(0, Interop.mode(userDir.resolve("appcache")) & 022, "appcache writable by others");
      assertOwned(userDir.resolve("appcache").resolve(app.toString()), alice, group, 02750);
    }
    for (Path g : logRoots) {
      assertOwned(g.resolve(app.toString()), alice, group, 02750);
    }
    // The binary copied the tokens into the application dir and the localizer, running there as
    // the user, read and deleted its copy (ContainerLocalizer does that).
    Path appDir = localRoots.get(0).resolve("usercache").resolve(alice).resolve("appcache")
        .resolve(app.toString());
    assertFalse(Files.exists(appDir.resolve(tokens.getName()), LinkOption.NOFOLLOW_LINKS),
        "the localizer left its tokens copy");

    // The localized file, owned by the user (the NM can read it through the group).
    localizedFile = dest1.resolve("data.txt");
    assertEquals(alice, Interop.attrs(dest1).owner().getName());
    assertEquals(alice, Interop.attrs(localizedFile).owner().getName());
    localizedArchive = dest2.resolve("libs.zip");
    assertTrue(Files.isDirectory(localizedArchive), "unpacked archive " + localizedArchive);
    assertEquals(alice, Interop.attrs(localizedArchive).owner().getName());
    // Private resources: the unpacked directory is the user's alone (0700), so the NM needs
    // listAsUser to see inside it (tested with the launch below).
    assertEquals(0700, Interop.mode(localizedArchive), "mode of the private archive dir");
  }

  // ------------------------------------------------------------------------------------------
  // launchContainer of a script written by ContainerExecutor.writeLaunchEnv (with a wildcard
  // resource, which makes writeLaunchEnv call listAsUser)
  // ------------------------------------------------------------------------------------------

  @Test
  @Order(20)
  void launchRunsHadoopsLaunchScriptAsTheUser() throws Exception {
    assertNotNull(localizedArchive, "needs the localization test");
    ContainerId cid = containerId(nextContainer++);
    Map<org.apache.hadoop.fs.Path, List<String>> resources = new HashMap<>();
    resources.put(hpath(localizedFile), Collections.singletonList("data.txt"));
    resources.put(hpath(localizedArchive), Collections.singletonList("lib/*"));
    Path logDir = logRoots.get(0).resolve(app.toString()).resolve(cid.toString());
    String cmd = "id -un > " + logDir + "/stdout; pwd >> " + logDir + "/stdout;"
        + " cat data.txt a.txt b.txt >> " + logDir + "/stdout; echo mark=$CEXEC_MARK >> "
        + logDir + "/stdout; ls -l > " + logDir + "/ls.txt";
    Launch l = launch(cid, resources, cmd);
    int rc = l.future.get(60, TimeUnit.SECONDS);
    assertEquals(0, rc, "launchContainer exit; diagnostics " + l.diags);

    // listAsUser was called on the private archive dir and gave both names.
    assertEquals(0, Interop.lastExit(" 5 " + localizedArchive), "exit code of list");
    String script = Interop.read(l.script);
    assertTrue(script.contains("a.txt") && script.contains("b.txt"),
        "launch script has links for the listed archive entries:\n" + script);

    String out = Interop.read(logDir.resolve("stdout"));
    String[] lines = out.split("\n");
    assertEquals(alice, lines[0], "id -un in the container; output:\n" + out);
    assertEquals(l.workDir.toString(), lines[1], "working dir of the container");
    assertTrue(out.contains("interop data") && out.contains("content of a.txt")
        && out.contains("content of b.txt"), "resources reached through the links:\n" + out);
    assertTrue(out.contains("mark=interop"), "environment from writeLaunchEnv:\n" + out);

    // What launch made: container dirs in every local dir and log dir, the script and tokens
    // copied into the work dir, the pid file, the .exitcode file.
    for (Path lr : localRoots) {
      Path c = lr.resolve("usercache").resolve(alice).resolve("appcache").resolve(app.toString())
          .resolve(cid.toString());
      assertOwned(c, alice, group, 02710); // Hadoop: 0710, the setgid bit inherited

    }
    for (Path g : logRoots) {
      assertOwned(g.resolve(app.toString()).resolve(cid.toString()), alice, group, 02750);
    }
    assertOwned(l.workDir.resolve("launch_container.sh"), alice, group, 0700);
    assertOwned(l.workDir.resolve("container_tokens"), alice, group, 0600);
    Path exitcode = Paths.get(l.pidFile + ".exitcode");
    assertEquals("0", Interop.read(exitcode).trim(), "the .exitcode file");
    assertEquals(nm, Interop.attrs(exitcode).owner().getName(), "owner of .exitcode");
    assertTrue(Files.exists(l.pidFile), "pid file " + l.pidFile);
  }

  @Test
  @Order(21)
  void aFailingContainerReportsItsExitCode() throws Exception {
    ContainerId cid = containerId(nextContainer++);
    Launch l = launch(cid, Collections.emptyMap(), "exit 7");
    int rc = l.future.get(60, TimeUnit.SECONDS);
    assertEquals(7, rc);
    assertEquals("7", Interop.read(Paths.get(l.pidFile + ".exitcode")).trim());
    assertTrue(String.join("\n", l.diags).contains("Exception from container-launch"),
        "diagnostics: " + l.diags);
  }

  // ------------------------------------------------------------------------------------------
  // isContainerAlive, signalContainer (NULL, TERM, KILL), reacquireContainer, exit codes
  // ------------------------------------------------------------------------------------------

  @Test
  @Order(30)
  void termEndsTheContainerWith143AndReacquireSeesIt() throws Exception {
    ContainerId cid = containerId(nextContainer++);
    Launch l = launch(cid, Collections.emptyMap(), "exec sleep 600");
    String pid = waitForPid(l);
    Container c = l.container;

    assertTrue(lce.isContainerAlive(new ContainerLivenessContext.Builder()
        .setContainer(c).setUser(alice).setPid(pid).build()), "isContainerAlive of a running container");
    assertTrue(lce.signalContainer(new ContainerSignalContext.Builder()
        .setContainer(c).setUser(alice).setPid(pid).setSignal(ContainerExecutor.Signal.NULL).build()));
    assertEquals(0, Interop.lastExit(" 2 " + pid + " 0"));

    // A restarted NodeManager: a new executor that knows only the pid file.
    LinuxContainerExecutor restarted = newExecutor();
    restarted.activateContainer(cid, hpath(l.pidFile));
    Future<Integer> reacquired = pool.submit(() -> restarted.reacquireContainer(
        new ContainerReacquisitionContext.Builder().setContainer(c).setUser(alice)
            .setContainerId(cid).build()));
    Thread.sleep(1500);
    assertFalse(reacquired.isDone(), "reacquireContainer returned while the container runs");

    assertTrue(lce.signalContainer(new ContainerSignalContext.Builder()
        .setContainer(c).setUser(alice).setPid(pid).setSignal(ContainerExecutor.Signal.TERM).build()));
    assertEquals(0, Interop.lastExit(" 2 " + pid + " 15"));
    int rc = l.future.get(60, TimeUnit.SECONDS);
    assertEquals(ContainerExecutor.ExitCode.TERMINATED.getExitCode(), rc, "launch exit after TERM");
    assertEquals(143, rc);
    assertTrue(l.diags.contains("Container killed on request. Exit code is 143"),
        "diagnostics: " + l.diags);
    assertEquals("143", Interop.read(Paths.get(l.pidFile + ".exitcode")).trim());
    assertEquals(143, (int) reacquired.get(60, TimeUnit.SECONDS), "reacquireContainer's exit code");

    // The process group is gone: the binary answers 9, the executor says "not alive".
    assertFalse(lce.isContainerAlive(new ContainerLivenessContext.Builder()
        .setContainer(c).setUser(alice).setPid(pid).build()));
    assertEquals(9, Interop.lastExit(" 2 " + pid + " 0"));
    assertFalse(lce.signalContainer(new ContainerSignalContext.Builder()
        .setContainer(c).setUser(alice).setPid(pid).setSignal(ContainerExecutor.Signal.TERM).build()),
        "signalling a gone container returns false (exit 9)");
  }

  @Test
  @Order(31)
  void killEndsTheContainerWith137() throws Exception {
    ContainerId cid = containerId(nextContainer++);
    // A container that ignores TERM: only KILL stops it.
    Launch l = launch(cid, Collections.emptyMap(), "trap '' TERM; sleep 600 & wait; sleep 600");
    String pid = waitForPid(l);
    assertTrue(lce.signalContainer(new ContainerSignalContext.Builder()
        .setContainer(l.container).setUser(alice).setPid(pid)
        .setSignal(ContainerExecutor.Signal.KILL).build()));
    assertEquals(0, Interop.lastExit(" 2 " + pid + " 9"));
    int rc = l.future.get(60, TimeUnit.SECONDS);
    assertEquals(ContainerExecutor.ExitCode.FORCE_KILLED.getExitCode(), rc);
    assertEquals(137, rc);
    assertTrue(l.diags.contains("Container killed on request. Exit code is 137"), "diagnostics: " + l.diags);
    assertEquals("137", Interop.read(Paths.get(l.pidFile + ".exitcode")).trim());
  }

  // ------------------------------------------------------------------------------------------
  // deleteAsUser in every form the NodeManager sends
  // ------------------------------------------------------------------------------------------

  @Test
  @Order(40)
  void deleteAbsolutePath() throws Exception {
    // ResourceLocalizationService removing a localized resource: `3 <absolute path>`.
    Path dir = localizedFile.getParent();
    delete(hpath(dir));
    assertFalse(Files.exists(dir, LinkOption.NOFOLLOW_LINKS), dir + " survived");
    assertTrue(Files.isDirectory(localizedArchive.getParent()), "sibling resource dir was deleted");
    assertEquals(0, Interop.lastExit(" 3 " + dir + " =>"));
  }

  @Test
  @Order(41)
  void deleteEmptySubPathWithAFileAsBaseDir() throws Exception {
    // `3 '' <file>`: a base dir that is a file.
    Path logDir = logRoots.get(0).resolve(app.toString()).resolve(containerId(2).toString());
    Path file = logDir.resolve("ls.txt");
    assertTrue(Files.exists(file), "needs the launch test's output " + file);
    delete(null, hpath(file));
    assertFalse(Files.exists(file, LinkOption.NOFOLLOW_LINKS), file + " survived");
    assertTrue(Files.exists(logDir.resolve("stdout")), "its sibling was deleted");
    assertEquals(0, Interop.lastExit(" 3 '' " + file));
  }

  @Test
  @Order(42)
  void deleteEmptySubPathWithAResourceDirAsBaseDir() throws Exception {
    // `3 '' <resource dir>`: the localized archive's dir (holding the user's private 0700 dir).
    // As in Hadoop's binary, the contents go as the user and the final rmdir runs as the NM,
    // which cannot write the user's 0710 filecache: Hadoop's rmdir_as_nm fails the same way
    // (EACCES, -1 -> 255). What matters to the NM: nothing of the user's is left inside.
    Path dir = localizedArchive.getParent();
    delete(null, hpath(dir));
    assertTrue(Files.isDirectory(dir), dir + " itself");
    try (java.util.stream.Stream<Path> left = Files.list(dir)) {
      assertEquals(0, left.count(), "contents left in " + dir);
    }
    assertEquals(255, Interop.lastExit(" 3 '' " + dir));
  }

  @Test
  @Order(43)
  void deleteEmptySubPathWithAppLogDirsAsBaseDirs() throws Exception {
    // NonAggregatingLogHandler: `3 '' <log1>/<app> <log2>/<app>`.
    List<org.apache.hadoop.fs.Path> bases = new ArrayList<>();
    for (Path g : logRoots) {
      bases.add(hpath(g.resolve(app.toString())));
    }
    delete(null, bases.toArray(new org.apache.hadoop.fs.Path[0]));
    for (Path g : logRoots) {
      assertFalse(Files.exists(g.resolve(app.toString()), LinkOption.NOFOLLOW_LINKS), "app log dir in " + g);
      assertOwned(g, nm, group, 0755);
    }
    assertEquals(0, Interop.lastExit(" 3 '' " + logRoots.get(0)));
  }

  @Test
  @Order(44)
  void deleteRelativeSubPathBelowAppDirs() throws Exception {
    // `3 <container id> <local1>/.../appcache/<app> <local2>/.../appcache/<app>`.
    String sub = containerId(2).toString();
    List<org.apache.hadoop.fs.Path> bases = new ArrayList<>();
    for (Path l : localRoots) {
      bases.add(hpath(appDir(l)));
    }
    delete(new org.apache.hadoop.fs.Path(sub), bases.toArray(new org.apache.hadoop.fs.Path[0]));
    for (Path l : localRoots) {
      assertFalse(Files.exists(appDir(l).resolve(sub), LinkOption.NOFOLLOW_LINKS), "container dir in " + l);
      assertTrue(Files.isDirectory(appDir(l)), "the app dir itself was deleted in " + l);
    }
    assertEquals(0, Interop.lastExit(" 3 " + sub + " "));
  }

  @Test
  @Order(45)
  void deleteRelativeSubPathSkipsAMissingBaseDir() throws Exception {
    // `3 <container id> <missing base> <app dir>`: a base dir that is gone (a failed disk, a
    // cleaned root) is skipped, the others are still done, and the exit code is 0.
    String sub = containerId(3).toString();
    Path missing = nmRoot.resolve("local-missing");
    Path target = appDir(localRoots.get(0)).resolve(sub);
    assertTrue(Files.isDirectory(target), "needs the failing-container test's dir " + target);
    delete(new org.apache.hadoop.fs.Path(sub), hpath(missing), hpath(appDir(localRoots.get(0))));
    assertFalse(Files.exists(target, LinkOption.NOFOLLOW_LINKS), target + " survived");
    assertEquals(0, Interop.lastExit(" 3 " + sub + " " + missing), "exit code of the delete");
  }

  @Test
  @Order(46)
  void deleteRelativeSubPathBelowLocalRoots() throws Exception {
    // ResourceLocalizationService / DeletionService: `3 usercache/<user>/appcache/<app> <local1>
    // <local2>`: the base dirs are the configured local roots themselves (whose parent is root's).
    String sub = "usercache/" + alice + "/appcache/" + app;
    delete(new org.apache.hadoop.fs.Path(sub), hpath(localRoots.get(0)), hpath(localRoots.get(1)));
    for (Path l : localRoots) {
      assertFalse(Files.exists(appDir(l), LinkOption.NOFOLLOW_LINKS), "app dir survived in " + l);
      assertOwned(l, nm, group, 0755);
      assertTrue(Files.isDirectory(l.resolve("usercache").resolve(alice).resolve("appcache")),
          "appcache itself was deleted in " + l);
    }
    assertEquals(0, Interop.lastExit(" 3 " + sub + " "), "exit code of the delete");
  }

  @Test
  @Order(47)
  void relaunchCleanupSendsARelativeLinkNameWhichWeRefuse() throws Exception {
    // ContainerExecutor.cleanupBeforeRelaunch: `3 <link name>` with no base dir. Hadoop's binary
    // would resolve it against the NodeManager's working directory; ours accepts absolute paths
    // only (SECURITY.md, "delete confinement") and exits non-zero, deleting nothing.
    Path cwd = Paths.get("").toAbsolutePath();
    Path bait = cwd.resolve("relaunch-link");
    Files.write(bait, "must survive\n".getBytes(StandardCharsets.UTF_8));
    ContainerId cid = containerId(nextContainer++);
    Map<org.apache.hadoop.fs.Path, List<String>> localized = new HashMap<>();
    localized.put(hpath(Interop.shared()), Collections.singletonList("relaunch-link"));
    Container c = Interop.container(cid, alice, ContainerLaunchContext.newInstance(
        null, new HashMap<>(), null, null, null, null), localized, new CopyOnWriteArrayList<>());
    lce.cleanupBeforeRelaunch(c);
    assertTrue(Files.exists(bait), "a file in the NodeManager's cwd was deleted");
    assertNotEquals(0, Interop.lastExit(" 3 relaunch-link =>"), "a relative path without base dir was accepted");
  }

  @Test
  @Order(48)
  void hadoopsOwnTestIdsAreRefused() throws Exception {
    // Hadoop's TestLinuxContainerExecutor drives its binary with ids like APP_1 / CONTAINER_1,
    // which no real NodeManager sends (ApplicationId/ContainerId always print application_<ts>_<n>
    // and container_<ts>_<n>_<attempt>_<n>). Like Hadoop's binary, ours checks the id grammar
    // and refuses them before touching the disk (43, which the NM reads as "Invalid container
    // id"); the NM side sees a failed initialization.
    String locId = "CONTAINER_1";
    org.apache.hadoop.fs.Path tokens = writeTokens(locId);
    try {
      lce.startLocalizer(new LocalizerStartContext.Builder()
          .setNmPrivateContainerTokens(tokens).setNmAddr(localizerAddr).setUser(alice)
          .setAppId("APP_1").setLocId(locId).setDirsHandler(dirs).build());
      fail("initialize accepted application id APP_1");
    } catch (IOException expected) {
      assertTrue(expected.getMessage().contains("APP_1 initialization failed"), expected.getMessage());
    }
    assertEquals(43, Interop.lastExit(" 0 APP_1 CONTAINER_1 "));
    for (Path l : localRoots) {
      assertFalse(Files.exists(l.resolve("usercache").resolve(alice).resolve("appcache").resolve("APP_1"),
          LinkOption.NOFOLLOW_LINKS), "an app dir for APP_1 was made in " + l);
    }
  }

  // ------------------------------------------------------------------------------------------
  // helpers
  // ------------------------------------------------------------------------------------------

  private final class Launch {
    Future<Integer> future;
    Path pidFile;
    Path script;
    Path workDir;
    Container container;
    final List<String> diags = new CopyOnWriteArrayList<>();
  }

  /** The NodeManager's ContainerLaunch, reduced to what reaches the executor. */
  private Launch launch(ContainerId cid, Map<org.apache.hadoop.fs.Path, List<String>> resources,
      String command) throws Exception {
    Launch l = new Launch();
    Path priv = Files.createDirectories(localRoots.get(0).resolve("nmPrivate").resolve(app.toString())
        .resolve(cid.toString()));
    l.script = priv.resolve("launch_container.sh");
    l.pidFile = priv.resolve(cid + ".pid");
    Path tokens = priv.resolve(cid + ".tokens");
    new Credentials().writeTokenStorageFile(hpath(tokens), conf);
    Map<String, String> env = new HashMap<>();
    env.put("CEXEC_MARK", "interop");
    Path logDir = logRoots.get(0).resolve(app.toString()).resolve(cid.toString());
    l.workDir = localRoots.get(1).resolve("usercache").resolve(alice).resolve("appcache")
        .resolve(app.toString()).resolve(cid.toString());
    try (OutputStream out = new FileOutputStream(l.script.toFile())) {
      lce.writeLaunchEnv(out, env, resources, Collections.singletonList(command), hpath(logDir),
          alice, new LinkedHashSet<>());
    }
    ContainerLaunchContext clc = ContainerLaunchContext.newInstance(null, env, null, null, null, null);
    l.container = Interop.container(cid, alice, clc, resources, l.diags);
    lce.activateContainer(cid, hpath(l.pidFile));
    ContainerStartContext ctx = new ContainerStartContext.Builder()
        .setContainer(l.container)
        .setLocalizedResources(resources)
        .setNmPrivateContainerScriptPath(hpath(l.script))
        .setNmPrivateTokensPath(hpath(tokens))
        .setUser(alice)
        .setAppId(app.toString())
        .setContainerWorkDir(hpath(l.workDir))
        .setLocalDirs(dirs.getLocalDirs())
        .setLogDirs(dirs.getLogDirs())
        .setFilecacheDirs(new ArrayList<>())
        .setUserLocalDirs(new ArrayList<>())
        .setContainerLocalDirs(new ArrayList<>())
        .setContainerLogDirs(new ArrayList<>())
        .setUserFilecacheDirs(new ArrayList<>())
        .setApplicationLocalDirs(new ArrayList<>())
        .build();
    l.future = pool.submit(() -> {
      try {
        return lce.launchContainer(ctx);
      } finally {
        lce.deactivateContainer(cid);
      }
    });
    return l;
  }

  private String waitForPid(Launch l) throws Exception {
    Interop.waitFor("pid file " + l.pidFile, 30_000, () -> {
      try {
        return Files.size(l.pidFile) > 0 || l.future.isDone();
      } catch (IOException e) {
        return false;
      }
    });
    if (l.future.isDone()) {
      fail("container ended before it was signalled: " + l.future.get() + " " + l.diags);
    }
    String pid = Interop.read(l.pidFile).trim();
    assertTrue(pid.matches("[0-9]+"), "pid file holds " + pid);
    return pid;
  }

  private void delete(org.apache.hadoop.fs.Path sub, org.apache.hadoop.fs.Path... bases) {
    DeletionAsUserContext.Builder b = new DeletionAsUserContext.Builder().setUser(alice).setSubDir(sub);
    if (bases.length > 0) {
      b.setBasedirs(bases);
    }
    lce.deleteAsUser(b.build());
  }

  private Path appDir(Path localRoot) {
    return localRoot.resolve("usercache").resolve(alice).resolve("appcache").resolve(app.toString());
  }

  private ContainerId containerId(int n) {
    return ContainerId.newContainerId(attempt, n);
  }

  private org.apache.hadoop.fs.Path writeTokens(String locId) throws IOException {
    org.apache.hadoop.fs.Path p = dirs.getLocalPathForWrite(
        "nmPrivate/" + String.format(ContainerExecutor.TOKEN_FILE_NAME_FMT, locId));
    new Credentials().writeTokenStorageFile(p, conf);
    return p;
  }

  private LocalResource resource(Path p, LocalResourceType type) throws IOException {
    org.apache.hadoop.fs.FileStatus st = FileSystem.getLocal(conf).getFileStatus(hpath(p));
    return LocalResource.newInstance(URL.fromPath(FileSystem.getLocal(conf).makeQualified(hpath(p))),
        type, LocalResourceVisibility.PRIVATE, st.getLen(), st.getModificationTime());
  }

  private static ResourceLocalizationSpec spec(LocalResource r, Path dest) {
    ResourceLocalizationSpec s = RF.newRecordInstance(ResourceLocalizationSpec.class);
    s.setResource(r);
    s.setDestinationDirectory(URL.fromPath(new org.apache.hadoop.fs.Path("file://" + dest)));
    return s;
  }

  private static org.apache.hadoop.fs.Path hpath(Path p) {
    return new org.apache.hadoop.fs.Path(p.toString());
  }

  private static String join(List<Path> ps) {
    StringBuilder b = new StringBuilder();
    for (Path p : ps) {
      b.append(b.length() > 0 ? "," : "").append(p);
    }
    return b.toString();
  }

  private static void mkdir(Path p, String perms) throws IOException {
    Files.createDirectories(p);
    Files.setPosixFilePermissions(p, Interop.perms(perms));
  }

  /** ContainerLocalizer's directory names (kept here so a rename in Hadoop shows up). */
  private static final class ContainerLocalizerNames {
    static final String USERCACHE =
        org.apache.hadoop.yarn.server.nodemanager.containermanager.localizer.ContainerLocalizer.USERCACHE;
    static final String FILECACHE =
        org.apache.hadoop.yarn.server.nodemanager.containermanager.localizer.ContainerLocalizer.FILECACHE;
  }

  /**
   * The NodeManager's end of LocalizationProtocol: hands each localizer the resources offered for
   * it, records what it reports, and tells it to stop when everything is reported.
   */
  static final class FakeNodeManager implements LocalizationProtocol {
    private final Map<String, List<ResourceLocalizationSpec>> offered = new ConcurrentHashMap<>();
    private final Map<String, Integer> outstanding = new ConcurrentHashMap<>();
    private final Map<String, List<LocalResourceStatus>> finished = new ConcurrentHashMap<>();
    private final Map<String, Integer> beats = new ConcurrentHashMap<>();

    void offer(String locId, List<ResourceLocalizationSpec> specs) {
      offered.put(locId, specs);
      outstanding.put(locId, specs.size());
      finished.put(locId, new CopyOnWriteArrayList<>());
    }

    List<LocalResourceStatus> finished(String locId) {
      return finished.getOrDefault(locId, Collections.emptyList());
    }

    String describe(String locId) {
      return "heartbeats=" + beats.getOrDefault(locId, 0) + " finished=" + finished(locId);
    }

    @Override
    public LocalizerHeartbeatResponse heartbeat(LocalizerStatus status) {
      String id = status.getLocalizerId();
      beats.merge(id, 1, Integer::sum);
      LocalizerHeartbeatResponse r = RF.newRecordInstance(LocalizerHeartbeatResponse.class);
      if (!outstanding.containsKey(id)) {
        r.setLocalizerAction(LocalizerAction.DIE);
        return r;
      }
      for (LocalResourceStatus st : status.getResources()) {
        if (st.getStatus() != ResourceStatusType.FETCH_PENDING) {
          finished.get(id).add(st);
          outstanding.merge(id, -1, Integer::sum);
        }
      }
      List<ResourceLocalizationSpec> todo = offered.remove(id);
      if (todo != null) {
        r.setLocalizerAction(LocalizerAction.LIVE);
        r.setResourceSpecs(todo);
      } else if (outstanding.get(id) <= 0) {
        r.setLocalizerAction(LocalizerAction.DIE);
      } else {
        r.setLocalizerAction(LocalizerAction.LIVE);
        r.setResourceSpecs(new ArrayList<>());
      }
      return r;
    }
  }
}
