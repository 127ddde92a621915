; Inno Setup 6 script for QuotaDesk: a per-user install (no administrator rights) of the
; PyInstaller one-folder bundle, with a Start-menu shortcut and an uninstaller.
;
; Normally compiled by `python packaging/build.py --installer`, which passes:
;   /DMyAppVersion=0.1.0 /DMyAppNumericVersion=0.1.0.0 /DRepoRoot=<repo>
;   /DSourceDir=<repo>\dist\quotadesk /DOutputDir=<repo>\dist
;   /DOutputBaseFilename=QuotaDesk-0.1.0-windows-x64-setup
; and, to sign Setup and the uninstaller, /Squotadesk=<sign command using $f> /DSIGN=1
; (see packaging/README.md). By hand, from the repo root, after the PyInstaller build:
;   iscc /DMyAppVersion=0.1.0 packaging\windows\quotadesk.iss

#ifndef MyAppVersion
  #define MyAppVersion "0.0.0"
#endif
#ifndef MyAppNumericVersion
  #define MyAppNumericVersion "0.0.0.0"
#endif
#ifndef RepoRoot
  #define RepoRoot SourcePath + "..\.."
#endif
#ifndef SourceDir
  #define SourceDir RepoRoot + "\dist\quotadesk"
#endif
#ifndef OutputDir
  #define OutputDir RepoRoot + "\dist"
#endif
#ifndef OutputBaseFilename
  #define OutputBaseFilename "QuotaDesk-" + MyAppVersion + "-windows-x64-setup"
#endif

#define MyAppName "QuotaDesk"
#define MyAppPublisher "QuotaDesk"
#define MyAppExeName "quotadesk.exe"
#define MyAppDescription "Quotas, add-on packs and billing for resold voice, SMS and email"

[Setup]
; AppId identifies the product for upgrades and the uninstaller: never change it.
AppId={{F1CDB28A-E2A8-4299-B5E5-16B21FBBDDAA}
AppName={#MyAppName}
AppVersion={#MyAppVersion}
AppVerName={#MyAppName} {#MyAppVersion}
AppPublisher={#MyAppPublisher}
AppComments={#MyAppDescription}
VersionInfoVersion={#MyAppNumericVersion}
VersionInfoProductName={#MyAppName}
VersionInfoProductTextVersion={#MyAppVersion}
VersionInfoDescription={#MyAppName} Setup
; Per-user install: {autopf} is %LOCALAPPDATA%\Programs, shortcuts and the uninstall entry go to
; the user's Start menu and HKCU. No UAC prompt.
PrivilegesRequired=lowest
DefaultDirName={autopf}\{#MyAppName}
DisableProgramGroupPage=yes
DisableDirPage=auto
UsePreviousAppDir=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
SourceDir={#SourceDir}
OutputDir={#OutputDir}
OutputBaseFilename={#OutputBaseFilename}
SetupIconFile={#RepoRoot}\resources\icons\quotadesk.ico
UninstallDisplayIcon={app}\{#MyAppExeName}
UninstallDisplayName={#MyAppName}
Uninstallable=yes
CloseApplications=yes
RestartApplications=no
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
#ifdef SIGN
; The tool "quotadesk" is defined on ISCC's command line (/Squotadesk=...): nothing secret here.
SignTool=quotadesk
SignedUninstaller=yes
#endif

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; An upgrade replaces the bundle's library folder whole, so no stale DLL of an older version stays.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
; Paths are relative to SourceDir (the one-folder bundle).
Source: "*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#MyAppName}"; Filename: "{app}\{#MyAppExeName}"; Comment: "{#MyAppDescription}"
Name: "{autodesktop}\{#MyAppName}"; Filename: "{app}\{#MyAppExeName}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#MyAppExeName}"; Description: "{cm:LaunchProgram,{#StringChange(MyAppName, '&', '&&')}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Only what the app's own folder may hold; the user's database and settings (in the user's
; AppData folders) are kept on purpose.
Type: filesandordirs; Name: "{app}\_internal"
